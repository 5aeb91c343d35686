"""Report sections of the run as a whole: the summary (camera folder, headline figures, every stage with its
status, time and folder) and the time per stage (run.json, or the stages' own files without it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reid_from_video.core.layout import STAGE_NAMES, read_stage_file
from reid_from_video.report import charts
from reid_from_video.report.context import Context
from reid_from_video.report.html import (
    DASH,
    Raw,
    card,
    code,
    count,
    figures,
    fmt,
    image,
    join,
    key_values,
    note,
    number,
    pct,
    seconds,
    status,
    table,
    tag,
)
from reid_from_video.report.learning import before_after, improvement_cards, start_names

STATUS_COLOURS = {"done": "#1f77b4", "skipped": "#9e9e9e", "failed": "#d62728", "interrupted": "#d62728"}
NOT_RUN = ("not run", "absent")


def stage_rows(ctx: Context) -> list[tuple[str, str, float | None]]:
    """(stage, status, seconds): run.json's stages in run order, then the known stages it does not name,
    from their stage.json (``rfv run`` writes one in each stage folder) or, without one, ``present`` with
    the time of their own files, or ``absent``. A stage not run has no time."""
    rows: list[tuple[str, str, float | None]] = []
    for stage in (ctx.record or {}).get("stages", []):
        state, secs = stage["status"], stage["seconds"]
        # run.json is written between stages: a stage running now (or stopped by a kill) is "not run"
        # there, and "running" in its own stage.json.
        record = read_stage_file(ctx.run, stage["name"]) if state == "not run" else None
        if record and record.get("status") == "running":
            state, secs = "running", number(record.get("seconds"))
        rows.append((stage["name"], state, None if state in NOT_RUN else secs))
    named = {name for name, *_ in rows}
    for stage in STAGE_NAMES:
        if stage in named:
            continue
        if not (ctx.run / stage).is_dir():
            rows.append((stage, "absent", None))
        elif record := read_stage_file(ctx.run, stage):
            rows.append((stage, str(record.get("status", "present")), number(record.get("seconds"))))
        else:
            rows.append((stage, "present", _own_seconds(ctx, stage)))
    return rows


def _own_seconds(ctx: Context, stage: str) -> float | None:
    """The time a stage records in its own files: track (summary totals), label and train (their reports)."""
    if stage == "track" and ctx.track is not None and ctx.track.result is not None:
        return ctx.track.result.totals.seconds
    if stage == "label" and ctx.label is not None and ctx.label.result is not None:
        return ctx.label.result.seconds
    if stage == "train" and ctx.train is not None and ctx.train.result is not None:
        return ctx.train.result.seconds
    return None


def _headline(ctx: Context) -> list[Raw]:
    cards = []
    if (mot := ctx.mot_eval) is not None:
        combined = mot.result.combined
        cards.append(card("MOTA, all cameras", pct(combined.clear.get("mota"))))
        noise = combined.noise
        cards.append(card("rFM / rSW", f"{fmt(noise.rfm, 2)} / {fmt(noise.rsw, 2)}"))
    if (label := ctx.label) is not None and (report := label.result) is not None:
        cards.append(card("training labels", count(report.labels)))
        if (scores := report.quality.labels) is not None:
            purity, ari = fmt(scores.purity, 2), fmt(scores.ari, 2)
            cards.append(card("label purity / ARI", f"{purity} / {ari}"))
    before, after = before_after(ctx.train)
    if before is not None and after is not None:
        cards += improvement_cards(before, after, start_names(ctx.train))
    return cards


def render_summary(ctx: Context) -> list[Any]:
    """run.json (camera folder, stages, config), the cameras tracked and the headline figures."""
    run = ctx.record
    tracked = ctx.track.result if ctx.track is not None else None
    camera_folder = (run or {}).get("camera_folder") or (tracked.input if tracked is not None else None)
    pairs: list[tuple[Any, Any]] = [
        ("run folder", code(ctx.run)),
        ("camera folder", code(camera_folder) if camera_folder else DASH),
    ]
    if cameras := [c.camera for c in (tracked.cameras if tracked is not None else ())]:
        pairs.append(("cameras", f"{len(cameras)}: {', '.join(cameras)}"))
    for key, name in (("gt", "ground truth"), ("eval_data", "evaluation set (held-out identities)")):
        if run is not None and key in run:
            pairs.append((name, code(run[key]) if run[key] else "none"))
    if run is None:
        pairs.append(
            ("run.json", "absent: the stage folders were written by hand (times from their own files)")
        )
    out: list[Any] = [key_values(pairs)]
    if cards := _headline(ctx):
        out.append(tag("div", join(cards), class_="cards"))
    rows = []
    for stage, state, secs in stage_rows(ctx):
        folder = ctx.run / stage
        rows.append([stage, status(state), ctx.where(folder) if folder.is_dir() else "absent", seconds(secs)])
    out += [tag("h3", "Stages"), table(["stage", "status", "where", "time"], rows, numeric_from=3)]
    running = [stage for stage, state, _ in stage_rows(ctx) if state == "running"]
    if running:
        out.append(
            note(
                f"{', '.join(running)}: running now, or stopped before it finished (its stage.json "
                "says running); run the same rfv run command again to resume",
                "info",
            )
        )
    if run is not None and run.get("config") is not None:
        out.append(_config(ctx, run["config"]))
    return out


def _config(ctx: Context, config: Any) -> Raw:
    """run.json's config: a mapping shown as YAML, or the path of a YAML file linked and shown."""
    if not isinstance(config, str):
        text = yaml.safe_dump(config, sort_keys=False)
        return tag("details", join([tag("summary", "pipeline config (run.json)"), tag("pre", text)]))
    path = Path(config) if Path(config).is_absolute() else ctx.run / config
    if not path.is_file():
        return key_values([("pipeline config", join([code(config), " (not found)"]))])
    text = path.read_text(encoding="utf-8", errors="replace")
    summary = tag("summary", join(["pipeline config ", ctx.where(path)]))
    return tag("details", join([summary, tag("pre", text)]))


def render_times(ctx: Context) -> list[Any]:
    """Seconds per stage (run.json, else the stages' files) and per step of tracking (track/summary.json)."""
    rows = [
        (stage, state, secs)
        for stage, state, secs in stage_rows(ctx)
        if secs is not None and state not in NOT_RUN
    ]
    if not rows:
        return [note("no stage times: no run.json, and no stage that records its time")]
    total = sum(secs for *_, secs in rows)
    chart = charts.bar_chart(
        [f"{stage} ({state})" for stage, state, _ in rows],
        [secs for *_, secs in rows],
        f"time per stage, total {seconds(total)}",
        "seconds",
        [STATUS_COLOURS.get(state, charts.COLOURS[0]) for _, state, _ in rows],
    )
    plots = [image(chart, "time per stage")]
    tracked = ctx.track.result if ctx.track is not None else None
    if steps := tracked.totals.stage_seconds if tracked is not None else {}:
        chart = charts.bar_chart(
            list(steps),
            [float(v) for v in steps.values()],
            "rfv track: time per step",
            "seconds (all cameras)",
        )
        plots.append(image(chart, "tracking time per step"))
    source = "run.json" if ctx.record else "the stages' own files (no run.json)"
    shares = [
        [stage, status(state), seconds(secs), f"{100 * secs / total:.0f}%" if total else DASH]
        for stage, state, secs in rows
    ]
    out: list[Any] = [tag("p", f"From {source}."), figures(*plots)]
    out.append(table(["stage", "status", "time", "share"], shares, 2))
    if any(state == "skipped" for _, state, _ in rows):
        out.append(
            note(
                "a skipped stage (unchanged since an earlier run) shows the time of the run that made it",
                "info",
            )
        )
    return out
