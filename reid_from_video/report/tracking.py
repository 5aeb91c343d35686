"""Report sections of the tracks: what ``rfv track`` did per camera (track/summary.json) and how good the
tracks are against ground truth (mot-eval/summary.json: MOT metrics, rFM / rSW and their histograms)."""

from __future__ import annotations

from typing import Any

from reid_from_video.report import charts
from reid_from_video.report.context import Context
from reid_from_video.report.html import (
    DASH,
    count,
    figures,
    fmt,
    image,
    key_values,
    note,
    number,
    seconds,
    table,
    tag,
)

TRACK_COUNTS = ("frames", "detections", "boxes", "tracks", "crops")


def render_track(ctx: Context) -> list[Any]:
    """track/summary.json: per camera frames, detections, boxes, tracks, crops, time and frames/s."""
    track = ctx.stage("track")
    if track is None:
        return [ctx.absent("track", "no tracking (rfv track) in this run")]
    folder, summary = track["folder"], track["summary"]
    if summary is None:
        return [note(f"{folder / 'summary.json'} not found: tracking did not finish")]
    rows = [
        [
            c.get("camera"),
            *(count(c.get(k)) for k in TRACK_COUNTS),
            seconds(c.get("seconds")),
            fmt(c.get("frames_per_s")),
        ]
        for c in summary.get("cameras", [])
    ]
    totals = summary.get("totals", {})
    rows.append(
        ["all cameras", *(count(totals.get(k)) for k in TRACK_COUNTS), seconds(totals.get("seconds")), ""]
    )
    out: list[Any] = [table(["camera", *TRACK_COUNTS, "time", "frames/s"], rows, emphasis_last=True)]
    skipped = summary.get("skipped_complete") or []
    if skipped:
        done = ", ".join(map(str, skipped))
        out.append(note(f"complete from an earlier run, not tracked again: {done}", "info"))
    crops = folder / "crops"
    out.append(
        key_values(
            [
                (
                    "tracker output (MOTChallenge txt)",
                    ctx.where(folder / "mot") if track["mot_files"] else "absent",
                ),
                ("tracklet index", ctx.where(folder / "index.csv") if track["index"] else "absent"),
                ("crops", ctx.where(crops) if crops.is_dir() else "none saved"),
                ("summary", ctx.where(folder / "summary.json")),
            ]
        )
    )
    return out


def render_mot(ctx: Context) -> list[Any]:
    """mot-eval/summary.json: the table ``rfv mot-eval`` prints (per camera and COMBINED) and the combined
    histograms of identities per tracklet (|Q_i|) and tracklets per identity."""
    mot = ctx.stage("mot-eval")
    if mot is None:
        return [
            ctx.absent(
                "mot-eval", "no evaluation of the tracks against ground truth (MOT metrics, rFM / rSW)"
            )
        ]
    from reid_from_video.noise.mot_eval import COMBINED, TABLE_COLUMNS

    summary = mot["summary"]
    rows = []
    for name, entry in [*summary["sequences"].items(), (COMBINED, summary.get(COMBINED, {}))]:
        values = [number(entry.get(part, {}).get(key)) for _, part, key, _ in TABLE_COLUMNS]
        cells = [
            DASH if v is None else pattern.format(v)
            for v, (*_, pattern) in zip(values, TABLE_COLUMNS, strict=True)
        ]
        rows.append([name, *cells])
    out: list[Any] = [
        tag(
            "p",
            "Per camera against its ground truth: CLEAR MOT, identity and HOTA metrics, and TMC's tracklet "
            "noise: rFM = tracklets per ground-truth identity, rSW = identities per tracklet (1 = no "
            "fragmentation, no switch).",
        ),
        table(["camera", *(header for header, *_ in TABLE_COLUMNS)], rows, emphasis_last=True),
    ]
    noise = summary.get(COMBINED, {}).get("noise", {})
    plots = []
    for key, title, xlabel in (
        ("q_histogram", "identities per tracklet |Q_i|", "ground-truth identities"),
        ("fm_histogram", "tracklets per identity", "tracklets"),
    ):
        if noise.get(key):
            plots.append(image(charts.histogram_chart({"all cameras": noise[key]}, title, xlabel), title))
    if plots:
        out.append(figures(*plots))
    warnings = summary.get("warnings") or []
    if warnings:
        shown = "; ".join(str(w) for w in warnings[:20]) + (" ..." if len(warnings) > 20 else "")
        out.append(note(f"{len(warnings)} warning(s): {shown}", "info"))
    out.append(key_values([("summary", ctx.where(mot["folder"] / "summary.json"))]))
    return out
