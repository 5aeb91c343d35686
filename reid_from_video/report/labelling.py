"""Report sections of the training labels: what ``rfv label`` made and how good it is against ground truth
(label/label_report.json, label/labels.csv), and the montage of sample tracklets per label (crops from the
tracklet store in track/)."""

from __future__ import annotations

import os
from typing import Any

from reid_from_video.labels.result import LabelQuality, LabelScores
from reid_from_video.report import charts
from reid_from_video.report.context import Context
from reid_from_video.report.html import (
    Raw,
    code,
    count,
    figures,
    fmt,
    image,
    join,
    key_values,
    note,
    pct,
    seconds,
    table,
    tag,
)
from reid_from_video.report.montage import LabelSample, sample_tracklets

METHODS = {"sstt": "TAUDL sparse space-time sampling (sstt)", "tmc": "TMC isolation + association (tmc)"}


def render_labels(ctx: Context) -> list[Any]:
    """label/label_report.json (method, counts, association or SSTT duplication, quality) and labels.csv
    (tracklets per label)."""
    label = ctx.label
    if label is None:
        return [ctx.absent("label", "no training labels (rfv label) in this run")]
    folder, report = label.folder, label.result
    out: list[Any] = []
    if report is None:
        out.append(note(f"{folder / 'label_report.json'} not found: labelling did not finish"))
    else:
        pairs = [
            ("method", METHODS.get(report.method, report.method)),
            ("labels", count(report.labels)),
            ("tracklets in the store", count(report.tracklets)),
            ("crops (index rows)", count(report.index_rows)),
            ("time", seconds(report.seconds)),
        ]
        if (association := report.association) is not None:
            clusters, left = count(association.clusters), count(association.unclustered)
            pairs.append(
                (
                    "association",
                    f"eps {fmt(association.eps, 4)}, {clusters} clusters, {left} sub-tracklets un-clustered",
                )
            )
        if (duplication := report.duplication) is not None:
            pairs.append(
                (
                    "per-camera duplication",
                    f"{pct(duplication.rate)} of labels, "
                    f"{pct(duplication.identity_rate)} of (camera, identity) pairs",
                )
            )
        out.append(key_values(pairs))
        out += _quality(report.quality)
        if sweep := report.duplication_sweep or ():
            rows = [[fmt(r.period_s, 1), count(r.labels), pct(r.rate)] for r in sweep]
            out += [
                tag("h3", "SSTT: duplication against the sampling period P"),
                table(["P (s)", "labels", "duplicated labels"], rows),
            ]
    if per_label := label.units_per_label:
        sizes: dict[int, int] = {}
        for units in per_label.values():
            sizes[units] = sizes.get(units, 0) + 1
        unit = "sub-tracklets" if label.sub_tracks_file else "tracklets"
        chart = charts.histogram_chart({"labels": dict(sorted(sizes.items()))}, f"{unit} per label", unit)
        out.append(figures(image(chart, f"{unit} per label")))
    files = [("labels", ctx.where(folder / "labels.csv") if label.labels_file else "absent")]
    if label.sub_tracks_file:
        files.append(("sub-tracklets", ctx.where(folder / "sub_tracks.csv")))
    if report is not None:
        files.append(("report", ctx.where(folder / "label_report.json")))
    out.append(key_values(files))
    return out


def _quality(quality: LabelQuality) -> list[Any]:
    if not quality.ground_truth:
        return [
            note(
                "label quality not measured: the tracklets have no ground-truth identities (rfv label "
                "--gt GT, or a store with gt ids)",
                "info",
            )
        ]
    rows = []
    parts = (("input tracklets", quality.tracklets_in), ("after isolation", quality.after_isolation))
    for name, part in parts:
        if part is not None:
            rows.append(
                [
                    name,
                    count(part.tracklets),
                    fmt(part.rsw, 3),
                    fmt(part.rfm, 3),
                    fmt(part.noise_ratio_pct, 2),
                    count(part.frames_dropped),
                ]
            )
    out: list[Any] = [tag("h3", "Label quality against ground truth")]
    if rows:
        out.append(table(["", "tracklets", "rSW", "rFM", "noise %", "frames dropped"], rows))
    s = quality.labels or LabelScores()
    labelled = f"{count(s.frames_labelled)} of {count(s.frames)} ({pct(s.labelled_share)})"
    headers = [
        "labels",
        "identities",
        "identities labelled",
        "frames labelled",
        "purity",
        "pure share",
        "NMI",
        "ARI",
    ]
    row = [
        count(s.labels),
        count(s.identities),
        count(s.identities_labelled),
        labelled,
        *(fmt(v, 3) for v in (s.purity, s.pure_share, s.nmi, s.ari)),
    ]
    out.append(table(headers, [row], numeric_from=0))
    out.append(
        tag(
            "p",
            "purity: share of labelled frames whose identity is their label's majority identity; pure "
            "share: the same over all frames with ground truth (unlabelled ones count as failures); "
            "NMI, ARI: agreement of labels and identities on the labelled frames.",
        )
    )
    return out


def render_montage(ctx: Context) -> list[Any]:
    """A few labels, a few (sub-)tracklets each, a few crops of each, read from the store in track/."""
    track, label = ctx.track, ctx.label
    if track is None:
        return [ctx.absent("track", "no tracklet store, no crops to show")]
    store = track.folder
    if not track.index:
        return [note(f"{store / 'index.csv'} not found: no tracklet index")]
    labels_dir = label.folder if label is not None and label.labels_file else None
    m = ctx.config.montage
    samples = sample_tracklets(store, labels_dir, m)
    if not samples:
        return [note("no labelled tracklet in the store")]
    if not any(c.path for s in samples for t in s.tracklets for c in t.crops):
        return [note(f"{store} holds no crops (tracked with save_crops=false): nothing to show")]
    if labels_dir is not None:
        intro = (
            f"The {len(samples)} labels that gather the most cameras, then the most tracklets; up to "
            f"{m.tracklets} tracklets each (other cameras first), {m.frames} crops per tracklet spread "
            "over it. Hover a crop for its file."
        )
    else:
        intro = f"No labels in this run: the {len(samples)} longest tracklets, {m.frames} crops each."
    out: list[Any] = [tag("p", join([intro, " Crops from ", ctx.where(store / "crops"), "."]))]
    out += [label_group(sample, m.height) for sample in samples]
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def label_group(sample: LabelSample, height: int, noun: str = "label") -> Raw:
    """One label's (or identity's) tracklets side by side, a few crops each, with camera, track, frames."""
    if sample.label is None:
        title = "tracklet"
    else:
        sub = any(t.sub_track is not None for t in sample.tracklets)
        unit = "sub-tracklet" if sub else "tracklet"
        shown = f", {len(sample.tracklets)} shown" if len(sample.tracklets) < sample.units else ""
        where = _plural(sample.cameras, "camera")
        title = f"{noun} {sample.label}: {_plural(sample.units, unit)} in {where}{shown}"
        if sub:
            title += " (camera \u00b7 track / sub-track)"
    items = []
    for t in sample.tracklets:
        crops = []
        for crop in t.crops:
            where = f"{crop.path} (frame {crop.frame})"
            if crop.uri is None:
                crops.append(
                    tag("span", "unreadable", class_="unreadable", title=where, style=f"height:{height}px")
                )
            else:
                alt = f"{t.camera} track {t.track} frame {crop.frame}"
                crops.append(image(crop.uri, alt, where, "crop", style=f"height:{height}px"))
        name = f"{t.camera} \u00b7 track {t.track}" + (f" / {t.sub_track}" if t.sub_track is not None else "")
        frames = f"{t.frames} frames ({t.first_frame}\u2013{t.last_frame})"
        if t.gt_ids:
            frames += f" \u00b7 gt {', '.join(map(str, t.gt_ids))}"
        folder = os.path.dirname(t.crops[0].path) if t.crops else ""
        lines = [tag("b", name), Raw("<br>"), frames] + ([Raw("<br>"), code(folder + "/")] if folder else [])
        caption = join(lines)
        content = join([tag("div", join(crops), class_="crops"), tag("div", caption, class_="caption")])
        items.append(tag("div", content, class_="tracklet"))
    return tag(
        "div", join([tag("h3", title), tag("div", join(items), class_="tracklets")]), class_="label-group"
    )
