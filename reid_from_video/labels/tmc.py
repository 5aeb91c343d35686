"""TMC's noise reduction (sections 3.2 and 4.3): intra-tracklet isolation, then inter-tracklet association.

A tracker's tracklets are noisy both ways: one tracklet can hold several people (identity switch, rSW > 1)
and one person can be cut into several tracklets (fragmentation, rFM > 1).

* **Intra-tracklet isolation** (once, before training) fights switches: DBSCAN on the frame features of each
  tracklet (``eps_intra`` on unit-length features, Euclidean: the paper's 0.5-0.6) splits it into clusters,
  and each cluster becomes a sub-tracklet, its frames in time order. DBSCAN's noise frames are dropped, kept
  together as one more sub-tracklet, or given to the nearest cluster (``noise``). A tracklet in which DBSCAN
  finds no cluster at all (e.g. shorter than ``min_samples``) is kept whole or dropped.
* **Inter-tracklet association** (before every training epoch) fights fragmentation, and the extra
  fragmentation isolation adds: ``frames`` consecutive frames of every sub-tracklet (a random window),
  their features average-pooled, DBSCAN over all sub-tracklets on the k-reciprocal Jaccard distance with the
  data-dependent eps (:mod:`reid_from_video.labels.cluster`). A cluster is a pseudo identity; the
  sub-tracklets left un-clustered are dropped or get a label each (``unclustered``).

The functions here work on arrays aligned with a tracklet store's index rows (``camera``, ``track``,
``frame``); a trainer calls :func:`association_windows` and :func:`associate` with its current model's
features before each epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reid_from_video.core.distances import camera_centred, normalize_rows
from reid_from_video.core.errors import SettingError
from reid_from_video.labels.cluster import Clustering, cluster
from reid_from_video.labels.config import AssociationConfig, IsolationConfig, TmcConfig

DROPPED = -1  # sub_track / label of a row or sub-tracklet left out of training


# ------------------------------------------------------------------------------------------- isolation


def tracklet_rows(index: pd.DataFrame) -> list[np.ndarray]:
    """Row positions of every tracklet (camera, track), in (camera, track) order, each sorted by frame."""
    order = np.lexsort((index["frame"].to_numpy(), index["track"].to_numpy(), index["camera"].to_numpy()))
    keys = index[["camera", "track"]].to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
    return np.split(order, starts[1:])


def isolate(index: pd.DataFrame, features: np.ndarray, config: IsolationConfig) -> np.ndarray:
    """The sub-tracklet of every index row (0, 1, ... within its tracklet, numbered by first frame), or
    :data:`DROPPED`. ``features`` has one row per index row."""
    if len(features) != len(index):
        raise ValueError(f"{len(features)} feature rows for {len(index)} index rows")
    sub_track = np.full(len(index), DROPPED, np.int64)
    if not config.enabled:
        sub_track[:] = 0
        return sub_track
    from sklearn.cluster import DBSCAN  # sklearn's import is slow: only when isolating
    from threadpoolctl import threadpool_limits

    unit = normalize_rows(features)
    model = DBSCAN(eps=config.eps, min_samples=config.min_samples)
    # Thousands of tiny DBSCAN calls: a thread pool per call costs ~30 ms on a busy CPU, one thread ~0.5 ms.
    with threadpool_limits(1):
        _isolate_each(index, unit, model, config, sub_track)
    return sub_track


def _isolate_each(
    index: pd.DataFrame, unit: np.ndarray, model: object, config: IsolationConfig, sub_track: np.ndarray
) -> None:
    """Fill ``sub_track`` tracklet by tracklet (see :func:`isolate`)."""
    for rows in tracklet_rows(index):
        labels = model.fit_predict(unit[rows]) if len(rows) >= config.min_samples else np.full(len(rows), -1)
        if labels.max() < 0:
            if config.keep_unclustered:
                sub_track[rows] = 0
            continue
        sub_track[rows] = _time_ordered(_handle_noise(labels, unit[rows], config.noise))


def _handle_noise(labels: np.ndarray, unit: np.ndarray, policy: str) -> np.ndarray:
    """Cluster labels of one tracklet with its noise frames (-1) treated as ``policy`` says."""
    noise = labels < 0
    if not noise.any() or policy == "drop":
        return labels
    labels = labels.copy()
    if policy == "separate":
        labels[noise] = labels.max() + 1
    else:  # nearest: the cluster whose mean feature is the most similar
        centres = normalize_rows(np.stack([unit[labels == c].mean(0) for c in range(labels.max() + 1)]))
        labels[noise] = np.argmax(unit[noise] @ centres.T, axis=1)
    return labels


def _time_ordered(labels: np.ndarray) -> np.ndarray:
    """Renumber the clusters of a frame-ordered tracklet 0, 1, ... by their first frame; -1 stays."""
    kept = labels[labels >= 0]
    _, first = np.unique(kept, return_index=True)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    out = np.full(len(labels), DROPPED, np.int64)
    out[labels >= 0] = rank[np.searchsorted(np.unique(kept), kept)]
    return out


def sub_tracklets(index: pd.DataFrame, sub_track: np.ndarray) -> pd.DataFrame:
    """One row per sub-tracklet (camera, track, sub_track) with ``rows``: its index row positions sorted by
    frame; dropped rows are left out."""
    table = pd.DataFrame(
        {
            "camera": index["camera"].to_numpy(),
            "track": index["track"].to_numpy(),
            "sub_track": sub_track,
            "frame": index["frame"].to_numpy(),
            "row": np.arange(len(index)),
        }
    )
    table = table[table["sub_track"] != DROPPED].sort_values(["camera", "track", "sub_track", "frame"])
    grouped = table.groupby(["camera", "track", "sub_track"], sort=True)["row"].agg(np.array)
    return grouped.rename("rows").reset_index()


# ----------------------------------------------------------------------------------------- association


def association_windows(
    rows: Sequence[np.ndarray], frames: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """``frames`` consecutive rows of every sub-tracklet from a random start (all rows when shorter)."""
    windows = []
    for group in rows:
        if len(group) <= frames:
            windows.append(group)
        else:
            start = int(rng.integers(0, len(group) - frames + 1))
            windows.append(group[start : start + frames])
    return windows


def pooled_features(features: np.ndarray, windows: Sequence[np.ndarray]) -> np.ndarray:
    """The mean feature of every window of rows, unit length."""
    return normalize_rows(np.stack([features[w].mean(axis=0) for w in windows]))


def associate(
    tracklet_features: np.ndarray, config: AssociationConfig, cameras: np.ndarray | None = None
) -> tuple[np.ndarray, Clustering]:
    """(labels, clustering): a pseudo identity per sub-tracklet, :data:`DROPPED` for un-clustered ones
    unless ``unclustered`` is ``own``, in which case each gets a label after the clusters'. ``cameras``
    (one per sub-tracklet) is needed with ``camera_centring``."""
    if config.camera_centring:
        if cameras is None:
            raise ValueError("camera_centring needs the camera of every sub-tracklet")
        tracklet_features = camera_centred(tracklet_features, np.asarray(cameras))
    try:
        clustering = cluster(tracklet_features, config.cluster)
    except SettingError as error:
        raise error.under("cluster.") from None
    labels = clustering.labels.copy()
    if config.unclustered == "own":
        noise = labels < 0
        labels[noise] = clustering.n_clusters + np.arange(int(noise.sum()))
    return labels, clustering


@dataclass(frozen=True)
class TmcLabels:
    """What :func:`tmc_labels` gives: the sub-tracklet of every index row and the labelled sub-tracklets."""

    sub_track: np.ndarray
    labels: pd.DataFrame  # camera, track, sub_track, label (dropped ones left out)
    clustering: Clustering


def tmc_labels(index: pd.DataFrame, features: np.ndarray, config: TmcConfig) -> TmcLabels:
    """Isolation then one association, both on ``features`` (one row per index row)."""
    sub_track = isolate(index, features, config.isolation)
    groups = sub_tracklets(index, sub_track)
    if groups.empty:
        raise ValueError("isolation kept no sub-tracklet: nothing to associate")
    rng = np.random.default_rng(config.association.seed)
    windows = association_windows(groups["rows"].tolist(), config.association.frames, rng)
    pooled = pooled_features(features, windows)
    try:
        labels, clustering = associate(pooled, config.association, groups["camera"].to_numpy())
    except SettingError as error:
        raise error.under("association.") from None
    table = groups[["camera", "track", "sub_track"]].assign(label=labels)
    table = table[table["label"] != DROPPED].reset_index(drop=True)
    return TmcLabels(sub_track, table, clustering)
