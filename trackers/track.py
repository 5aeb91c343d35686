"""One track's life cycle: tentative until n_init consecutive hits, deleted after max_age misses."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class TrackState(IntEnum):
    TENTATIVE = 1
    CONFIRMED = 2
    DELETED = 3


class Track:
    """Identity, counters and appearance samples of one target; its Kalman state is held by the tracker.

    ``time_since_update`` counts the predictions since the last matched detection (0 right after a match);
    ``hits`` counts matched detections. A tentative track that misses a frame is deleted at once (a false
    alarm most likely), a confirmed one only after more than ``max_age`` missed frames.
    """

    __slots__ = (
        "track_id", "state", "hits", "age", "time_since_update", "n_init", "max_age", "features",
        "last_det", "score",
    )  # fmt: skip

    def __init__(self, track_id: int, n_init: int, max_age: int, feature: np.ndarray | None, score: float):
        self.track_id = track_id
        self.hits = 1
        self.age = 1
        self.time_since_update = 0
        self.n_init = n_init
        self.max_age = max_age
        self.state = TrackState.CONFIRMED if n_init <= 1 else TrackState.TENTATIVE
        self.features: list[np.ndarray] = [] if feature is None else [feature]
        self.last_det = -1  # index of the detection matched in the current frame, -1 when missed
        self.score = score

    @property
    def is_confirmed(self) -> bool:
        return self.state == TrackState.CONFIRMED

    @property
    def is_tentative(self) -> bool:
        return self.state == TrackState.TENTATIVE

    @property
    def is_deleted(self) -> bool:
        return self.state == TrackState.DELETED

    def predicted(self) -> None:
        """A frame went by (the tracker has moved the state one step)."""
        self.age += 1
        self.time_since_update += 1
        self.last_det = -1

    def matched(self, det_index: int, feature: np.ndarray | None, score: float) -> None:
        self.hits += 1
        self.time_since_update = 0
        self.last_det = det_index
        self.score = score
        if feature is not None:
            self.features.append(feature)
        if self.is_tentative and self.hits >= self.n_init:
            self.state = TrackState.CONFIRMED

    def missed(self) -> None:
        if self.is_tentative or self.time_since_update > self.max_age:
            self.state = TrackState.DELETED
