"""The report's charts: matplotlib figures (Agg, no pyplot state) returned as ``data:image/png;base64`` URIs.

Every function takes plain numbers and returns a URI for an ``<img src>``; nothing is read or written here.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
DPI = 100


@dataclass
class Series:
    """One line of a line chart."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    width: float = 1.5
    marker: str | None = None
    style: str = "-"


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    axis = figure.subplots()
    axis.grid(alpha=0.3)
    axis.spines[["top", "right"]].set_visible(False)
    return figure, axis


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def line_chart(
    series: Sequence[Series],
    title: str,
    xlabel: str,
    ylabel: str,
    vlines: Sequence[float] = (),
    ylim: tuple[float, float] | None = None,
    size: tuple[float, float] = (5.6, 3.4),
    integer_x: bool = True,
) -> str:
    """Lines (with optional markers), dotted vertical lines at ``vlines`` (e.g. epoch boundaries); x ticks
    on whole numbers (epochs, batches, ranks) unless ``integer_x`` is False."""
    figure, axis = _figure(*size)
    for x in vlines:
        axis.axvline(x, color="#bbbbbb", linestyle=":", linewidth=0.8)
    for i, s in enumerate(series):
        axis.plot(
            s.x,
            s.y,
            s.style,
            label=s.name,
            color=COLOURS[i % len(COLOURS)],
            linewidth=s.width,
            marker=s.marker,
            markersize=4,
        )
    axis.set_title(title, fontsize=11)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    if ylim is not None:
        axis.set_ylim(*ylim)
    if integer_x:
        axis.xaxis.set_major_locator(_integer_ticks())
    if len(series) > 1:
        axis.legend(fontsize=8, framealpha=0.8, loc="best")
    return _uri(figure)


def bar_chart(
    names: Sequence[str], values: Sequence[float], title: str, xlabel: str, colours: Sequence[str] = ()
) -> str:
    """Horizontal bars, first name at the top, each bar labelled with its value."""
    height = 0.9 + 0.32 * max(1, len(names))
    figure, axis = _figure(5.6, height)
    positions = list(range(len(names)))[::-1]
    colour = list(colours) or [COLOURS[0]] * len(names)
    bars = axis.barh(positions, values, color=colour, height=0.6)
    axis.bar_label(bars, labels=[f"{v:.1f}" for v in values], padding=3, fontsize=8)
    axis.set_yticks(positions, labels=list(names), fontsize=9)
    axis.set_xlabel(xlabel)
    axis.set_title(title, fontsize=11)
    axis.margins(x=0.15)
    axis.grid(axis="y", visible=False)
    return _uri(figure)


def histogram_chart(histograms: Mapping[str, Mapping[int, int]], title: str, xlabel: str) -> str:
    """Side-by-side bars of integer histograms ({value: count}), one colour per histogram."""
    figure, axis = _figure(5.0, 3.0)
    keys = sorted({int(k) for h in histograms.values() for k in h})
    width = 0.8 / max(1, len(histograms))
    for i, (name, histogram) in enumerate(histograms.items()):
        counts = {int(k): v for k, v in histogram.items()}
        offset = (i - (len(histograms) - 1) / 2) * width
        axis.bar(
            [k + offset for k in keys],
            [counts.get(k, 0) for k in keys],
            width=width,
            label=name,
            color=COLOURS[i % len(COLOURS)],
        )
    axis.set_xticks(keys)
    axis.yaxis.set_major_locator(_integer_ticks())
    axis.set_title(title, fontsize=11)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("count")
    axis.grid(axis="x", visible=False)
    if len(histograms) > 1:
        axis.legend(fontsize=8, frameon=False)
    return _uri(figure)


def grouped_bars(
    groups: Sequence[str], series: Mapping[str, Sequence[float | None]], title: str, ylabel: str
) -> str:
    """Bars per group (e.g. mAP, rank-1), one colour per series (e.g. untrained, trained); None: no bar."""
    figure, axis = _figure(5.6, 3.4)
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        xs = [g + offset for g, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        bars = axis.bar(xs, ys, width=width, label=name, color=COLOURS[i % len(COLOURS)])
        axis.bar_label(bars, labels=[f"{v:.0f}" for v in ys], padding=2, fontsize=7)
    axis.set_xticks(range(len(groups)), labels=list(groups))
    axis.set_ylabel(ylabel)
    axis.set_ylim(0, 105)
    axis.set_title(title, fontsize=11)
    axis.grid(axis="x", visible=False)
    axis.legend(fontsize=8, frameon=False, loc="upper left")
    return _uri(figure)
