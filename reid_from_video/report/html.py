"""HTML building blocks of the report: escaping, number formats, tables, notes, images and the page itself
(inline CSS; no script, no font or file fetched from anywhere).

Every string is escaped unless it is :class:`Raw`, so text read from files can never become markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any


class Raw(str):
    """Markup built here, inserted as it is."""


def esc(value: Any) -> str:
    """``value`` as HTML text: Raw as is, anything else ``str()``-ed and escaped (quotes included)."""
    return value if isinstance(value, Raw) else html.escape(str(value), quote=True)


def join(parts: Iterable[Any]) -> Raw:
    return Raw("".join(esc(p) for p in parts))


def tag(name: str, content: Any = "", **attributes: Any) -> Raw:
    """``<name attr="...">content</name>``; attribute values escaped, ``class_`` for ``class``, None
    attributes left out."""
    attrs = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for key, value in attributes.items()
        if value is not None
    )
    return Raw(f"<{name}{attrs}>{esc(content)}</{name}>")


DASH = "\u2013"


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, empty, NaN, not a number)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def fmt(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals (ints as they are); missing or NaN: a dash; text as it is."""
    if value is None or isinstance(value, (bool, int)):
        return DASH if value is None else str(value)
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{as_float:.{digits}f}" if math.isfinite(as_float) else DASH


def pct(fraction: Any, digits: int = 1) -> str:
    """A fraction (0..1) as a percentage: ``0.6455`` -> ``64.6%``; missing: a dash."""
    n = number(fraction)
    return DASH if n is None else f"{100 * n:.{digits}f}%"


def count(value: Any) -> str:
    """A count (possibly stored as a float): ``56.0`` -> ``56``; missing: a dash."""
    n = number(value)
    return DASH if n is None else f"{n:.0f}"


def size(n_bytes: Any) -> str:
    """A file size: ``512 B``, ``3.4 kB``, ``97.2 MB``, ``1.25 GB``."""
    n = number(n_bytes)
    if n is None:
        return DASH
    for unit, scale, digits in (("GB", 1e9, 2), ("MB", 1e6, 1), ("kB", 1e3, 1)):
        if n >= scale:
            return f"{n / scale:.{digits}f} {unit}"
    return f"{n:.0f} B"


def seconds(value: Any) -> str:
    """Seconds for a person: ``12.3 s``, ``4 min 05 s``, ``1 h 02 min``; missing: a dash."""
    try:
        s = float(value)
    except (TypeError, ValueError):
        return DASH
    if not math.isfinite(s):
        return DASH
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def table(
    headers: Sequence[Any], rows: Iterable[Sequence[Any]], numeric_from: int = 1, emphasis_last: bool = False
) -> Raw:
    """A table; columns from ``numeric_from`` on are right-aligned; ``emphasis_last``: the last row bold."""
    head = join(tag("th", h, class_="num" if i >= numeric_from else None) for i, h in enumerate(headers))
    body = []
    rows = list(rows)
    for r, row in enumerate(rows):
        cells = join(tag("td", c, class_="num" if i >= numeric_from else None) for i, c in enumerate(row))
        body.append(tag("tr", cells, class_="total" if emphasis_last and r == len(rows) - 1 else None))
    return tag("table", join([tag("thead", tag("tr", head)), tag("tbody", join(body))]))


def key_values(pairs: Iterable[tuple[Any, Any]]) -> Raw:
    """A two-column table of names and values."""
    rows = join(tag("tr", join([tag("th", k), tag("td", v)])) for k, v in pairs)
    return tag("table", tag("tbody", rows), class_="kv")


def note(text: Any, kind: str = "missing") -> Raw:
    """A boxed remark: ``missing`` (a stage or file absent), ``error`` (unreadable), ``info``."""
    return tag("p", text, class_=f"note {kind}")


def image(
    uri: str, alt: str, title: str | None = None, class_: str = "chart", style: str | None = None
) -> Raw:
    """An ``<img>`` of an embedded ``data:`` URI (never a link to a file or a server)."""
    if not uri.startswith("data:image/"):
        raise ValueError("the report embeds images as data: URIs only")
    attributes = {"alt": alt, "title": title, "class": class_, "style": style}
    extra = "".join(f' {k}="{esc(v)}"' for k, v in attributes.items() if v is not None)
    return Raw(f'<img src="{esc(uri)}"{extra}>')


def figures(*charts: Raw) -> Raw:
    """Charts side by side, wrapping on narrow pages."""
    return tag("div", join(charts), class_="figures")


def card(label: str, value: Any, extra: Any = "") -> Raw:
    """A headline figure in a box: a small label above a big value."""
    return tag(
        "div",
        join([tag("div", label, class_="label"), tag("div", join([value, extra]), class_="big")]),
        class_="card",
    )


def change(before: float | None, after: float | None, digits: int = 1) -> Raw:
    """`` (+2.5 points)`` in green, or red when it falls; computed from the values as shown."""
    if before is None or after is None:
        return Raw("")
    delta = round(after, digits) - round(before, digits)
    return tag("span", f" ({delta:+.{digits}f} points)", class_="delta" + (" down" if delta < 0 else ""))


def status(text: str) -> Raw:
    """A stage status (done, skipped, failed, present, absent), coloured."""
    return tag("span", text, class_="status-" + "-".join(str(text).split()))


def code(text: Any) -> Raw:
    return tag("code", text)


def section(anchor: str, title: str, *content: Any) -> Raw:
    return tag("section", join([tag("h2", title), *content]), id=anchor)


CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#222;
  background:#f4f5f7;margin:0}
header{background:#23313f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;color:#cfd8e0}
header code{color:#fff;background:#34495e}
nav{background:#fff;border-bottom:1px solid #dde;padding:8px 28px;position:sticky;top:0;z-index:1}
nav a{margin-right:16px;color:#2a5d8f;text-decoration:none}
main{max-width:1240px;margin:0 auto;padding:12px 28px 40px}
section{background:#fff;border:1px solid #e0e3e8;border-radius:6px;padding:14px 20px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px;border-bottom:1px solid #eee;padding-bottom:6px}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{padding:3px 9px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}
thead th{background:#f0f2f5;border-bottom:1px solid #d5d9df}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#fafbfc}
table.kv th{font-weight:normal;color:#555;background:none;padding-right:18px}
code{font:12px/1.3 Menlo,Consolas,monospace;background:#f0f2f5;padding:1px 4px;border-radius:3px;
  overflow-wrap:anywhere}
pre{background:#f6f7f9;border:1px solid #e3e5e8;padding:8px;overflow:auto;font-size:12px;max-height:420px}
.note{padding:7px 11px;border-radius:4px;margin:6px 0}
.note.missing{background:#fff7e0;border:1px solid #f0d890}
.note.error{background:#fdecea;border:1px solid #f3b4ad}
.note.info{background:#eef4fb;border:1px solid #c9dcf0}
.figures{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
img.chart{max-width:100%;border:1px solid #eee}
.status-done{color:#1b7f3b;font-weight:600}.status-skipped{color:#777;font-weight:600}
.status-failed,.status-interrupted{color:#c62828;font-weight:700}.status-absent{color:#b26a00}
.status-running{color:#b26a00;font-weight:600}.status-not-run{color:#999}
.big{font-size:26px;font-weight:600}.delta{color:#1b7f3b}.delta.down{color:#c62828}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.card{border:1px solid #e0e3e8;border-radius:6px;padding:8px 14px;min-width:150px}
.card .label{color:#666;font-size:12px}
.label-group{border:1px solid #e3e6ea;border-radius:6px;padding:8px 10px;margin:10px 0}
.label-group h3{margin:0 0 6px}
.tracklets{display:flex;flex-wrap:wrap;gap:14px}
.tracklet{background:#fafbfc;border:1px solid #eceef1;border-radius:4px;padding:5px}
.tracklet .crops{display:flex;gap:3px;align-items:flex-end}
.tracklet img{display:block;border:1px solid #ccc}
.tracklet .caption{font-size:12px;color:#444;margin-top:3px;line-height:1.35}
.unreadable{display:inline-block;width:40px;background:#eee;color:#999;font-size:10px;text-align:center}
footer{color:#777;font-size:12px;text-align:center;margin:20px}
"""


def page(title: str, header: Raw, nav: Sequence[tuple[str, str]], body: Sequence[Raw], footer: Any) -> str:
    """The whole document: one self-contained HTML page."""
    links = join(tag("a", name, href=f"#{anchor}") for anchor, name in nav)
    return (
        "<!DOCTYPE html>\n"
        + tag(
            "html",
            join(
                [
                    tag(
                        "head",
                        join([Raw('<meta charset="utf-8">'), tag("title", title), tag("style", Raw(CSS))]),
                    ),
                    tag(
                        "body",
                        join(
                            [
                                tag("header", header),
                                tag("nav", links),
                                tag("main", join(body)),
                                tag("footer", footer),
                            ]
                        ),
                    ),
                ]
            ),
            lang="en",
        )
        + "\n"
    )
