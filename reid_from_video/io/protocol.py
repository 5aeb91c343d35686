"""Who is queried against whom: the official MARS protocol, and the same rules for any labelled tracklets.

A protocol names, for a table of tracklets, the query rows, the gallery rows, each tracklet's identity and
camera, and the identities whose gallery items are junk (see :mod:`reid_from_video.evaluate.ranking` for
how a ranking is scored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reid_from_video.io.mars import MarsDataset
from reid_from_video.io.mars_layout import JUNK_PID


@dataclass(frozen=True)
class Protocol:
    name: str
    ids: np.ndarray  # identity of every tracklet
    cameras: np.ndarray  # camera of every tracklet
    query: np.ndarray  # rows of the query tracklets
    gallery: np.ndarray  # rows of the gallery tracklets
    junk_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.cameras) != n:
            raise ValueError(f"{len(self.cameras)} cameras for {n} tracklets")
        for name, rows in (("query", self.query), ("gallery", self.gallery)):
            if len(rows) and (rows.min() < 0 or rows.max() >= n):
                raise ValueError(f"{name} rows outside 0..{n - 1}")

    def summary(self) -> dict[str, int | str]:
        return {
            "protocol": self.name,
            "tracklets": len(self.ids),
            "queries": len(self.query),
            "gallery": len(self.gallery),
            "query_identities": int(len(np.unique(self.ids[self.query]))),
        }


def mars_protocol(dataset: MarsDataset) -> Protocol:
    """MARS as its official code evaluates it: the ``query_IDX`` rows of the test tracklets as queries, every
    test tracklet (queries included) as the gallery, person 0 (junk images) as junk; distractors (-1) stay
    in the gallery as wrong matches, and same identity in the same camera is junk per query."""
    test = dataset.test
    return Protocol(
        name="mars",
        ids=test["pid"].to_numpy(np.int64),
        cameras=test["camera"].to_numpy(np.int64),
        query=np.asarray(dataset.query, np.int64),
        gallery=np.arange(len(test)),
        junk_ids=(JUNK_PID,),
    )


def tracklet_protocol(ids: np.ndarray, cameras: np.ndarray, seed: int = 0) -> Protocol:
    """MARS's rules for any labelled tracklets: for every identity seen in two or more cameras, one query
    tracklet per (identity, camera), drawn at random with ``seed``; the gallery is every tracklet."""
    ids, cameras = np.asarray(ids, np.int64), np.asarray(cameras)
    camera_codes = pd.factorize(cameras, sort=True)[0].astype(np.int64)
    table = pd.DataFrame({"id": ids, "camera": camera_codes, "row": np.arange(len(ids))})
    spread = table.groupby("id")["camera"].nunique()
    candidates = table[table["id"].isin(spread.index[spread >= 2])]
    rng = np.random.default_rng(seed)
    groups = candidates.groupby(["id", "camera"], sort=True)["row"]
    picked = groups.agg(lambda rows: rng.choice(rows.to_numpy()))
    return Protocol(
        name="tracklets",
        ids=ids,
        cameras=camera_codes,
        query=np.sort(picked.to_numpy(np.int64)),
        gallery=np.arange(len(ids)),
    )
