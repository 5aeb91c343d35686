"""``rfv label``: a tracklet store -> training labels (TAUDL's SSTT or TMC's isolation + association) and a
label-quality report whenever ground truth is known.

Outputs in the label folder:

* ``labels.csv``: camera, track[, sub_track], label (+ instant_s for SSTT): the labels table of the store
  format, keyed as :func:`reid_from_video.io.store.check_labels` expects;
* ``sub_tracks.csv`` (TMC): camera, track, frame, sub_track for every index row kept by isolation, so a
  trainer can rebuild the sub-tracklets without running isolation again;
* ``label_report.json`` and ``label_report.txt``: what was produced and, with gt, how good it is
  (:mod:`reid_from_video.labels.quality`; SSTT adds the duplication rate and its sweep over P).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reid_from_video.core.atomic import atomic_write, json_ready
from reid_from_video.core.config import save_config
from reid_from_video.core.errors import ConfigError, SettingError
from reid_from_video.core.lock import output_lock
from reid_from_video.io.store import TrackletStore, check_labels
from reid_from_video.io.tracklets import tracklet_identity
from reid_from_video.labels.config import LabelConfig
from reid_from_video.labels.features import CropEmbedder, frame_features, model_embedder
from reid_from_video.labels.ground_truth import attach_gt_ids
from reid_from_video.labels.guard import check_degenerate
from reid_from_video.labels.quality import format_quality, label_quality, row_labels
from reid_from_video.labels.result import LabelResult
from reid_from_video.labels.sstt import duplication_rate, duplication_sweep, sample_tracklets
from reid_from_video.labels.tmc import DROPPED, tmc_labels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Labels:
    """The labels of a store, in memory: the labels table, TMC's sub-tracklets and the report."""

    labels: pd.DataFrame
    sub_tracks: pd.DataFrame | None
    report: LabelResult


# ----------------------------------------------------------------------------------------------- running


def run_label(
    store: str | Path,
    out: str | Path,
    config: LabelConfig,
    *,
    features: str | Path | None = None,
    model: str | Path | None = None,
    gt: str | Path | None = None,
) -> LabelResult:
    """``rfv label``: labels for the store at ``store``, written to ``out`` (labels.csv, sub_tracks.csv,
    label_report.json and .txt, config.yaml). TMC's frame features come from ``features`` (a .npy, one row
    per index row), or from ``model`` (``histogram`` or a re-ID model file): the features rfv track stored
    with the crops when that model made them (``reuse_features``), else the model run on the crops;
    ``gt``: a MOT gt folder to match the store's boxes against for the quality report."""
    if features is not None and model is not None:
        raise ConfigError("give a features file or a model, not both")
    with output_lock(out):
        embed = model_embedder(model, config) if model is not None and config.method == "tmc" else None
        made = make_labels(store, config, features_path=features, embed=embed, gt=gt)
        out = Path(out)
        written = [*write_label_outputs(made, out), save_config(config, out)]
        log.info("wrote %s", ", ".join(map(str, written)))
    return made.report


def make_labels(
    store_path: str | Path,
    config: LabelConfig,
    features_path: str | Path | None = None,
    embed: CropEmbedder | None = None,
    gt: str | Path | None = None,
) -> Labels:
    """Labels for the store at ``store_path``; TMC needs frame features, from ``features_path`` (a .npy,
    one row per index row, in index order), or those the store holds when made by ``embed``, or from
    ``embed`` run on the crops (:func:`reid_from_video.labels.features.frame_features`). ``gt``: a MOT gt
    folder to match the store's boxes against. Degenerate labels raise
    :class:`~reid_from_video.core.errors.DegenerateLabelsError` (or warn, with ``on_degenerate: warn``;
    :mod:`reid_from_video.labels.guard`)."""
    start = time.perf_counter()
    store = TrackletStore(store_path)
    index = store.read_index()
    if gt is not None:
        index = attach_gt_ids(index, gt)
    report: dict[str, Any] = {"store": str(store.root), "method": config.method, "index_rows": len(index)}
    report["tracklets"] = int(len(index[["camera", "track"]].drop_duplicates()))
    if config.method == "sstt":
        labels, sub_tracks, sub_track = sample_tracklets(index, config.sstt), None, None
        units = len(labels)
        if index["gt_id"].notna().any():
            identity = tracklet_identity(index)
            report["duplication"] = duplication_rate(labels, identity)
            sweep = duplication_sweep(index, config.sstt, config.sweep_periods, identity)
            report["duplication_sweep"] = sweep.to_dict(orient="records")
    else:
        found = frame_features(store, index, config, features_path, embed)
        report["features"] = found.source
        try:
            result = tmc_labels(index, found.features, config.tmc)
        except SettingError as error:
            raise error.under("tmc.") from None
        labels, sub_track = result.labels, result.sub_track
        units = len(result.clustering.labels)
        kept = sub_track != DROPPED
        sub_tracks = index.loc[kept, ["camera", "track", "frame"]].assign(sub_track=sub_track[kept])
        report["association"] = {
            "eps": result.clustering.eps,
            "clusters": result.clustering.n_clusters,
            "unclustered": result.clustering.n_noise,
            "graph_entries": result.clustering.graph_entries,
            "seconds": result.clustering.seconds,
        }
    report["labels"] = int(labels["label"].nunique())
    check_degenerate(labels, units, report["tracklets"], config)
    report["quality"] = label_quality(index, row_labels(index, labels, sub_track), sub_track, config.gt_scope)
    report["seconds"] = time.perf_counter() - start
    return Labels(labels, sub_tracks, LabelResult.from_json(json_ready(report)))


def format_report(report: LabelResult) -> str:
    lines = [
        f"{report.method}: {report.labels} labels from {report.tracklets} tracklets "
        f"({report.index_rows} crops) of {report.store} in {report.seconds:.1f} s"
    ]
    if report.features is not None:
        lines.append(f"features: {report.features}")
    if (a := report.association) is not None:
        lines.append(
            f"association: eps {a.eps or 0:.4f}, {a.clusters} clusters, {a.unclustered} un-clustered"
        )
    if (d := report.duplication) is not None:
        lines.append(
            f"per-camera duplication: {_pct(d.rate)} of labels, {_pct(d.identity_rate)} of "
            "(camera, identity) pairs"
        )
        for row in report.duplication_sweep or ():
            lines.append(f"  P = {row.period_s:g} s: {row.labels} labels, {_pct(row.rate)} duplicated")
    lines.append(format_quality(report.to_json()["quality"]))
    return "\n".join(lines)


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def write_label_outputs(result: Labels, out: str | Path) -> list[Path]:
    """labels.csv, sub_tracks.csv (TMC), label_report.json and .txt, each written atomically."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels_path = out / "labels.csv"
    check_labels(result.labels, labels_path)
    written = []
    tables = [(labels_path, result.labels)]
    if result.sub_tracks is not None:
        tables.append((out / "sub_tracks.csv", result.sub_tracks))
    for path, table in tables:
        with atomic_write(path) as handle:
            table.to_csv(handle, index=False)
        written.append(path)
    written.append(result.report.write(out))
    with atomic_write(out / "label_report.txt") as handle:
        handle.write(format_report(result.report) + "\n")
    return [*written, out / "label_report.txt"]
