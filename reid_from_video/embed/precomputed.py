"""Features stored with the detections in a deep_sort .npy file (frame,-1,x,y,w,h,score + D features).

The boxes asked for must be boxes of that file (the precomputed detector serving the same file): each is
looked up in its frame by coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_from_video.core.distances import normalize_rows
from reid_from_video.core.errors import InputError
from reid_from_video.detect.precomputed import FrameRows

TOLERANCE_PX = 0.5


class PrecomputedEmbedder:
    needs_pixels = False
    identity = None  # features of another tool, not recomputable from a crop
    appearance_gate = None  # no calibrated gate: tracker.max_cosine_distance

    def __init__(self, path: Path):
        self.file = FrameRows(path)
        if self.file.rows.shape[1] <= 7:
            raise InputError(path, "no feature columns after the 7 detection columns")
        self.path = path
        if not np.isfinite(self.file.rows[:, 7:]).all():
            raise InputError(path, "features hold NaN or infinite values")
        self._features = normalize_rows(self.file.rows[:, 7:])

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        if len(boxes) == 0:
            return np.zeros((0, self._features.shape[1]))
        span = self.file.span(index)
        if span.start == span.stop:
            raise InputError(self.path, f"no features for frame {index}")
        error = np.abs(boxes[:, None, :] - self.file.rows[None, span, 2:6]).max(axis=2)
        nearest = error.argmin(axis=1)
        if np.any(error[np.arange(len(boxes)), nearest] > TOLERANCE_PX):
            raise InputError(self.path, f"frame {index}: a box has no stored feature (use the same file's "
                             "detections: detector.backend=precomputed with the same source)")  # fmt: skip
        return self._features[span][nearest]
