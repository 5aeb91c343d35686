"""TAUDL's Sparse Space-Time Tracklet (SSTT) sampling: per-camera training labels with few duplicates.

A tracker cuts one person's walk through a camera view into several tracklets; giving every tracklet its own
label then gives that person several labels, and a classifier trained on them learns to tell the person
from themself. SSTT (TAUDL, section 3.1) labels a sparse sample instead, per camera:

* **time**: sampling instants ``S_i = t0 + start_s + i * P`` (``t0``: the camera's first indexed time) up
  to the camera's last time. At each instant the tracklets present get one new label each. With ``P`` longer
  than the time ``Q`` most people stay in the view (TAUDL: ``Q < P``), a person is present at one instant
  at most, so at most one of their tracklets is labelled;
* **space**: of the tracklets present at an instant, only those far from all others are labelled (box
  centres at least ``min_distance`` mean box heights apart): two boxes close together may be one person
  cut into two tracklets, or two people whose crops mix;
* a tracklet is labelled at most once (at the first instant that selects it), and tracklets shorter than
  ``min_frames`` index rows are ignored altogether (too few crops to learn from).

A tracklet is *present* at ``S`` when it spans it (first time ``<= S <=`` last time, widened by the
tolerance); its box at ``S`` is its row nearest in time. It takes part in the spatial rule whenever it is
present, but is *labelled* at ``S`` only when that row lies within ``tolerance_s`` of ``S``: a tracklet that
spans ``S`` inside a detection gap is still someone in the scene, but where it is at ``S`` is a guess.

Labels are per-camera label spaces (TAUDL trains one classifier branch per camera) written as globally
unique integers: camera by camera in name order, a contiguous block each, inside a camera by instant then
track; :func:`camera_label_blocks` gives each camera's block, so a trainer maps a label to its camera's
class index with ``label - block_start``.

How well the sampling worked is measured against ground truth (:mod:`reid_from_video.labels.ground_truth`)
by the per-camera identity duplication rate (:func:`duplication_rate`); :func:`duplication_sweep` shows how
it falls as ``P`` grows, and how many labels that costs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from reid_from_video.io.tracklets import TRACKLET_KEY, tracklet_identity
from reid_from_video.labels.config import SsttConfig

LABEL_COLUMNS = ("camera", "track", "label", "instant_s")
# Times are float seconds such as (frame - 1) / fps; comparisons allow this much rounding.
_EPS = 1e-9


# ------------------------------------------------------------------------------------------ sampling


def sample_tracklets(index: pd.DataFrame, config: SsttConfig) -> pd.DataFrame:
    """SSTT labels of a store index (see the module docstring): one row per labelled tracklet.

    ``index`` needs the store columns camera, track, time_s, x, y, w, h (one row per crop). Returns columns
    camera (str), track, label (int64, ``0..n-1``, a contiguous block per camera) and instant_s (the
    sampling instant that labelled the tracklet), sorted by label. Deterministic: no randomness, and row
    order in ``index`` does not matter.
    """
    _check_columns(index, ("camera", "track", "time_s", "x", "y", "w", "h"))
    chosen: list[tuple[str, int, float]] = []
    for camera, rows in index.groupby("camera", sort=True):
        chosen.extend((str(camera), track, instant) for track, instant in _sample_camera(rows, config))
    labels = pd.DataFrame(chosen, columns=["camera", "track", "instant_s"])
    return _numbered(labels)


def label_every_tracklet(index: pd.DataFrame, min_frames: int = 1) -> pd.DataFrame:
    """The baseline SSTT improves on: every tracklet with at least ``min_frames`` rows gets its own label.

    Same columns and numbering as :func:`sample_tracklets` (instant_s: the tracklet's first time; inside
    a camera, labels follow the first time, then the track).
    """
    _check_columns(index, ("camera", "track", "time_s"))
    grouped = index.groupby(TRACKLET_KEY, sort=True)["time_s"]
    table = pd.DataFrame({"instant_s": grouped.min(), "rows": grouped.size()}).reset_index()
    table = table[table["rows"] >= min_frames]
    table = table.sort_values(["camera", "instant_s", "track"], kind="stable")
    return _numbered(table[["camera", "track", "instant_s"]])


def camera_label_blocks(labels: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Each camera's label block ``(start, stop)``: its labels are ``start .. stop - 1``."""
    bounds = labels.groupby("camera", sort=True)["label"].agg(["min", "max"])
    return {str(c): (int(low), int(high) + 1) for c, low, high in bounds.itertuples()}


def _numbered(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (rows in label order) with a ``label`` column 0..n-1 and the standard columns / dtypes."""
    table = table.reset_index(drop=True)
    return pd.DataFrame(
        {
            "camera": table["camera"].astype(str),
            "track": table["track"].astype(np.int64),
            "label": np.arange(len(table), dtype=np.int64),
            "instant_s": table["instant_s"].astype(np.float64),
        },
        columns=list(LABEL_COLUMNS),
    )


def _check_columns(table: pd.DataFrame, columns: Iterable[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"index table lacks columns {missing}")


def _sample_camera(rows: pd.DataFrame, config: SsttConfig) -> list[tuple[int, float]]:
    """(track, instant) of the tracklets labelled in one camera, in label order."""
    if rows.empty:
        return []
    rows = rows.sort_values(["track", "time_s"], kind="stable")
    tracks_column = rows["track"].to_numpy(np.int64)
    times = rows["time_s"].to_numpy(np.float64)
    tolerance = config.tolerance_s
    if tolerance is None:
        tolerance = _half_row_interval(tracks_column, times)
    t0, t_end = float(times.min()), float(times.max())
    tracks, starts, counts = np.unique(tracks_column, return_index=True, return_counts=True)
    long = counts >= config.min_frames
    tracks, starts, counts = tracks[long], starts[long], counts[long]
    ends = starts + counts
    first, last = times[starts], times[ends - 1]
    h = rows["h"].to_numpy(np.float64)
    cx = rows["x"].to_numpy(np.float64) + rows["w"].to_numpy(np.float64) / 2
    cy = rows["y"].to_numpy(np.float64) + h / 2

    first_instant = t0 + config.start_s
    span = t_end - first_instant
    n_instants = int(np.floor(span / config.period_s + _EPS)) + 1 if span >= -_EPS else 0
    labelled: set[int] = set()
    chosen: list[tuple[int, float]] = []
    for i in range(n_instants):
        instant = first_instant + i * config.period_s
        present = np.flatnonzero((first <= instant + tolerance + _EPS) & (last >= instant - tolerance - _EPS))
        if not len(present):
            continue
        nearest = np.array([_nearest_row(times, starts[k], ends[k], instant) for k in present], np.int64)
        near = np.abs(times[nearest] - instant) <= tolerance + _EPS
        kept = _spatially_sparse(cx[nearest], cy[nearest], h[nearest], counts[present], config)
        for k in present[kept & near]:  # present is in track order
            if int(tracks[k]) not in labelled:
                labelled.add(int(tracks[k]))
                chosen.append((int(tracks[k]), float(instant)))
    return chosen


def _half_row_interval(tracks: np.ndarray, times: np.ndarray) -> float:
    """Half the median time between consecutive rows of a tracklet (rows sorted by track, time); 0 if none."""
    same = tracks[1:] == tracks[:-1]
    gaps = np.diff(times)[same]
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) / 2 if len(gaps) else 0.0


def _nearest_row(times: np.ndarray, start: int, end: int, instant: float) -> int:
    """The row of ``start:end`` (sorted times) nearest ``instant``; a tie goes to the earlier row."""
    i = start + int(np.searchsorted(times[start:end], instant))
    if i == end:
        return end - 1
    if i > start and instant - times[i - 1] <= times[i] - instant:
        return i - 1
    return i


def _spatially_sparse(
    cx: np.ndarray, cy: np.ndarray, h: np.ndarray, counts: np.ndarray, config: SsttConfig
) -> np.ndarray:
    """Which of the co-occurring boxes the spatial rule keeps (a boolean per box)."""
    n = len(cx)
    if n < 2 or config.min_distance == 0:
        return np.ones(n, bool)
    distance = np.hypot(cx[:, None] - cx[None, :], cy[:, None] - cy[None, :])
    scale = np.maximum((h[:, None] + h[None, :]) / 2, _EPS)
    close = distance < config.min_distance * scale
    np.fill_diagonal(close, False)
    if config.conflict == "drop_all":
        return ~close.any(axis=1)
    kept = np.zeros(n, bool)
    for i in np.lexsort((np.arange(n), -counts)):  # longest first; ties: the earlier (smaller) track
        if not close[i, kept].any():
            kept[i] = True
    return kept


# ------------------------------------------------------------------------------------- duplication


def duplication_rate(
    labels: pd.DataFrame, identity: pd.Series | Mapping[tuple[str, int], int]
) -> dict[str, Any]:
    """How often a labelling gives one person several labels in one camera, measured against gt identities.

    ``labels`` has columns camera, track, label; ``identity`` gives the gt identity of a tracklet, as a
    Series indexed by (camera, track) (:func:`~reid_from_video.io.tracklets.tracklet_identity`) or
    a mapping ``(camera, track) -> id``. A label's identity is that of its tracklets (the most common one
    when a label covers several; ties: the smaller id); labels whose tracklets have no identity are counted
    in ``labels_unknown`` and left out of both rates. Identities are counted per camera, ``(camera, id)``.

    * ``rate``: the share of labels whose identity also holds another label in the same camera (one person
      with two labels counts two duplicated labels);
    * ``identity_rate``: the share of ``(camera, id)`` holding two or more labels, as TAUDL's Table 6
      varies it ("x% of IDs per camera have two tracklets sampled").

    Returns a plain dict: ``labels``, ``labels_known``, ``labels_unknown``, ``duplicated_labels``,
    ``rate``, ``identities``, ``duplicated_identities``, ``identity_rate`` (rates NaN when there is nothing
    to divide by), and ``per_camera``: camera -> the same figures for that camera.
    """
    _check_columns(labels, ("camera", "track", "label"))
    ids = _lookup(labels, identity)
    table = pd.DataFrame(
        {"camera": labels["camera"].astype(str).to_numpy(), "label": labels["label"].to_numpy(), "gt_id": ids}
    )
    result = _duplication(table)
    result["per_camera"] = {str(c): _duplication(g) for c, g in table.groupby("camera", sort=True)}
    return result


def _lookup(labels: pd.DataFrame, identity: pd.Series | Mapping[tuple[str, int], int]) -> pd.Series:
    """The identity of each labels row (Int64, NA where unknown)."""
    keys = list(zip(labels["camera"].astype(str), labels["track"].astype(np.int64).tolist(), strict=True))
    if isinstance(identity, pd.Series):
        if identity.empty or not keys:
            return pd.Series(pd.NA, index=range(len(keys)), dtype="Int64")
        found = identity.reindex(pd.MultiIndex.from_tuples(keys, names=TRACKLET_KEY))
        return pd.Series(found.to_numpy(), dtype="Int64")
    values = [identity.get(key) for key in keys]
    return pd.Series([pd.NA if v is None else int(v) for v in values], dtype="Int64")


def _duplication(table: pd.DataFrame) -> dict[str, Any]:
    n_labels = int(table[["camera", "label"]].drop_duplicates().shape[0])
    known = table.dropna(subset=["gt_id"])
    counts = known.groupby(["camera", "label", "gt_id"]).size().rename("n").reset_index()
    counts = counts.sort_values(["camera", "label", "n", "gt_id"], ascending=[True, True, False, True])
    per_label = counts.drop_duplicates(["camera", "label"])
    per_identity = per_label.groupby(["camera", "gt_id"]).size()
    n_known = len(per_label)
    duplicated = per_identity[per_identity >= 2]
    return {
        "labels": n_labels,
        "labels_known": n_known,
        "labels_unknown": n_labels - n_known,
        "duplicated_labels": int(duplicated.sum()),
        "rate": float(duplicated.sum() / n_known) if n_known else float("nan"),
        "identities": len(per_identity),
        "duplicated_identities": len(duplicated),
        "identity_rate": float(len(duplicated) / len(per_identity)) if len(per_identity) else float("nan"),
    }


def duplication_sweep(
    index: pd.DataFrame,
    config: SsttConfig,
    periods: Iterable[float],
    identity: pd.Series | Mapping[tuple[str, int], int] | None = None,
) -> pd.DataFrame:
    """SSTT at each sampling period ``P`` of ``periods`` (the other settings from ``config``): one row per
    ``P`` with the number of labels and the duplication figures of :func:`duplication_rate`.

    ``identity`` defaults to the majority ``gt_id`` of each tracklet of ``index``
    (:func:`~reid_from_video.io.tracklets.tracklet_identity`). Columns: period_s, labels,
    labels_known, labels_unknown, duplicated_labels, rate, identities, duplicated_identities, identity_rate.
    """
    if identity is None:
        identity = tracklet_identity(index)
    rows = []
    for period in periods:
        labels = sample_tracklets(index, dataclasses.replace(config, period_s=float(period)))
        figures = duplication_rate(labels, identity)
        figures.pop("per_camera")
        rows.append({"period_s": float(period), **figures})
    columns = ["period_s", "labels", "labels_known", "labels_unknown", "duplicated_labels", "rate"]
    columns += ["identities", "duplicated_identities", "identity_rate"]
    return pd.DataFrame(rows, columns=columns)
