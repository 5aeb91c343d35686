"""Tracklets with ground-truth identities: each tracklet's identity, and the set a model is evaluated on.

Shared by ``rfv evaluate`` (the stage) and ``rfv train`` (its per-epoch evaluation) and by the labelling
methods that score themselves against ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.core.errors import InputError
from reid_from_video.io.mars import load_mars
from reid_from_video.io.protocol import Protocol, mars_protocol, tracklet_protocol
from reid_from_video.io.store import TrackletStore

TRACKLET_KEY = ["camera", "track"]


def tracklet_identity(index: pd.DataFrame) -> pd.Series:
    """The identity of each tracklet: the ``gt_id`` of most of its rows (ties: the smaller id).

    Rows without a gt id are ignored; a tracklet none of whose rows has one is left out. Returns an int64
    Series named ``gt_id``, indexed by (camera, track), sorted.
    """
    known = index.dropna(subset=["gt_id"])
    if known.empty:
        empty = pd.MultiIndex.from_arrays([[], []], names=TRACKLET_KEY)
        return pd.Series(np.empty(0, np.int64), index=empty, name="gt_id")
    counts = known.groupby([*TRACKLET_KEY, "gt_id"]).size().rename("n").reset_index()
    counts = counts.sort_values([*TRACKLET_KEY, "n", "gt_id"], ascending=[True, True, False, True])
    identity = counts.drop_duplicates(TRACKLET_KEY).set_index(TRACKLET_KEY)["gt_id"]
    return identity.astype(np.int64).sort_index()


@dataclass(frozen=True)
class TrackletSet:
    """What is evaluated: every tracklet's frame paths (empty when unknown), and the protocol on them."""

    paths: list[list[str]]
    protocol: Protocol
    source: str


def load_tracklets(path: str | Path, query_seed: int = 0) -> TrackletSet:
    """A MARS root / info folder (its test tracklets) or a tracklet store with ground truth."""
    path = Path(path)
    if (path / "index.csv").is_file():
        return _store_tracklets(path, query_seed)
    dataset = load_mars(path)
    test = dataset.test
    paths = [list(p) for p in test["paths"]] if "paths" in test else [[] for _ in range(len(test))]
    return TrackletSet(paths, mars_protocol(dataset), f"MARS test ({dataset.root})")


def _store_tracklets(root: Path, query_seed: int) -> TrackletSet:
    store = TrackletStore(root)
    index = store.read_index()
    known = index.dropna(subset=["gt_id"])
    if known.empty:
        raise InputError(
            store.index_path, "no crop has a ground-truth id (gt_id): nothing to evaluate against"
        )
    identity = tracklet_identity(known)  # the gt id of most of its crops
    frames = known.sort_values(["camera", "track", "frame"])
    paths = frames.groupby(["camera", "track"], sort=True)["path"].agg(list)
    ids = identity.loc[paths.index].to_numpy(np.int64)
    cameras = paths.index.get_level_values("camera").to_numpy()
    resolved = [[str(store.resolve(p)) for p in rows] for rows in paths]
    return TrackletSet(resolved, tracklet_protocol(ids, cameras, query_seed), f"tracklet store ({root})")
