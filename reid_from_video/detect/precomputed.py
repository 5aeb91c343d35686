"""Detections read from a file: MOTChallenge det.txt (e.g. MOT17 public detections) or a deep_sort .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_from_video.detect.base import Detections, DetectorConfig, filter_detections
from reid_from_video.errors import InputError
from reid_from_video.io.mot import read_mot


def load_detection_rows(path: Path) -> np.ndarray:
    """(N, 7+) rows frame, -1, x, y, w, h, score[, features...] from a det.txt or a deep_sort .npy."""
    if not path.is_file():
        raise InputError(path, "detection file not found")
    if path.suffix == ".npy":
        try:
            rows = np.load(path)
        except (OSError, ValueError) as error:
            raise InputError(path, f"cannot read the .npy file: {error}") from None
        if rows.ndim != 2 or rows.shape[1] < 7:
            raise InputError(path, f"expected an N x (7 + D) array of deep_sort detections, got {rows.shape}")
        return rows.astype(float)
    table = read_mot(path, kind="det")
    return table[["frame", "id", "x", "y", "w", "h", "conf"]].to_numpy(dtype=float)


class PrecomputedDetector:
    """Serves one camera's detections from its file, frame by frame; needs no pixels."""

    needs_pixels = False

    def __init__(self, path: Path, config: DetectorConfig):
        rows = load_detection_rows(path)
        self.config = config
        order = np.argsort(rows[:, 0], kind="stable")
        rows = rows[order]
        frames = rows[:, 0].astype(int)
        starts = np.searchsorted(frames, np.arange(frames.max(initial=0) + 2))
        self._boxes, self._scores, self._starts = rows[:, 2:6], rows[:, 6], starts

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]:
        out = []
        for k in indices:
            if k + 1 >= len(self._starts):
                out.append(Detections.empty())
                continue
            a, b = self._starts[k], self._starts[k + 1]
            out.append(filter_detections(Detections(self._boxes[a:b], self._scores[a:b]), self.config))
        return out
