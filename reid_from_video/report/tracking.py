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
    seconds,
    table,
    tag,
)

TRACK_COUNTS = ("frames", "detections", "boxes", "tracks", "crops")


def render_track(ctx: Context) -> list[Any]:
    """track/summary.json: per camera frames, detections, boxes, tracks, crops, time and frames/s."""
    track = ctx.track
    if track is None:
        return [ctx.absent("track", "no tracking (rfv track) in this run")]
    folder, summary = track.folder, track.result
    if summary is None:
        return [note(f"{folder / 'summary.json'} not found: tracking did not finish")]
    rows = [
        [
            c.camera,
            *(count(getattr(c, k)) for k in TRACK_COUNTS),
            seconds(c.seconds),
            fmt(c.frames_per_s),
        ]
        for c in (*summary.cameras, *summary.earlier)  # the earlier calls' cameras as they recorded them
    ]
    totals = summary.store_totals if summary.earlier else summary.totals
    rows.append(
        ["all cameras", *(count(getattr(totals, k)) for k in TRACK_COUNTS), seconds(totals.seconds), ""]
    )
    out: list[Any] = [table(["camera", *TRACK_COUNTS, "time", "frames/s"], rows, emphasis_last=True)]
    if summary.earlier:
        done = ", ".join(c.camera for c in summary.earlier)
        out.append(note(f"tracked by an earlier run of rfv track into this folder: {done}", "info"))
    elif summary.skipped_complete:
        done = ", ".join(summary.skipped_complete)
        out.append(note(f"complete from an earlier run, not tracked again: {done}", "info"))
    crops = folder / "crops"
    out.append(
        key_values(
            [
                (
                    "tracker output (MOTChallenge txt)",
                    ctx.where(folder / "mot") if track.mot_files else "absent",
                ),
                ("tracklet index", ctx.where(folder / "index.csv") if track.index else "absent"),
                ("crops", ctx.where(crops) if crops.is_dir() else "none saved"),
                ("summary", ctx.where(folder / "summary.json")),
            ]
        )
    )
    return out


def render_mot(ctx: Context) -> list[Any]:
    """mot-eval/summary.json: the table ``rfv mot-eval`` prints (per camera and COMBINED) and the combined
    histograms of identities per tracklet (|Q_i|) and tracklets per identity."""
    mot = ctx.mot_eval
    if mot is None:
        return [
            ctx.absent(
                "mot-eval", "no evaluation of the tracks against ground truth (MOT metrics, rFM / rSW)"
            )
        ]
    from reid_from_video.noise.mot_eval import TABLE_COLUMNS

    result = mot.result
    rows = []
    for name, entry in result.rows():
        cells = [
            DASH if (v := entry.value(part, key)) is None else pattern.format(v)
            for _, part, key, pattern in TABLE_COLUMNS
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
    noise = result.combined.noise
    plots = []
    for histogram, title, xlabel in (
        (noise.q_histogram, "identities per tracklet |Q_i|", "ground-truth identities"),
        (noise.fm_histogram, "tracklets per identity", "tracklets"),
    ):
        if histogram:
            plots.append(image(charts.histogram_chart({"all cameras": histogram}, title, xlabel), title))
    if plots:
        out.append(figures(*plots))
    if warnings := result.warnings:
        shown = "; ".join(warnings[:20]) + (" ..." if len(warnings) > 20 else "")
        out.append(note(f"{len(warnings)} warning(s): {shown}", "info"))
    out.append(key_values([("summary", ctx.where(mot.folder / "summary.json"))]))
    return out
