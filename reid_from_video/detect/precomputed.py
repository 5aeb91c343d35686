"""Detections read from a file: MOTChallenge det.txt (e.g. MOT17 public detections) or a deep_sort .npy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_from_video.core.errors import InputError
from reid_from_video.detect.base import Detections, filter_detections
from reid_from_video.detect.config import DetectorConfig
from reid_from_video.io.mot import read_mot


def load_detection_rows(path: Path) -> np.ndarray:
    """(N, 7+) rows frame, -1, x, y, w, h, score[, features...] from a det.txt or a deep_sort .npy."""
    if not path.is_file():
        raise InputError(path, "detection file not found")
    if path.suffix == ".npy":
        try:
            rows = np.load(path, allow_pickle=False)  # an object array would be unpickled
        except (OSError, ValueError) as error:
            raise InputError(path, f"cannot read the .npy file: {error}") from None
        if rows.ndim != 2 or rows.shape[1] < 7:
            raise InputError(path, f"expected an N x (7 + D) array of deep_sort detections, got {rows.shape}")
        return rows.astype(float)
    table = read_mot(path, kind="det")
    return table[["frame", "id", "x", "y", "w", "h", "conf"]].to_numpy(dtype=float)


class FrameRows:
    """A detection file's rows sorted by frame, sliced per frame: ``rows[span(k)]`` are frame k's."""

    def __init__(self, path: Path):
        rows = load_detection_rows(path)
        self.rows = rows[np.argsort(rows[:, 0], kind="stable")]
        frames = self.rows[:, 0].astype(int)
        self._starts = np.searchsorted(frames, np.arange(frames.max(initial=0) + 2))

    def span(self, frame: int) -> slice:
        if frame + 1 >= len(self._starts):
            return slice(0, 0)
        return slice(self._starts[frame], self._starts[frame + 1])


class PrecomputedDetector:
    """Serves one camera's detections from its file, frame by frame; needs no pixels."""

    needs_pixels = False

    def __init__(self, path: Path, config: DetectorConfig):
        self.file = FrameRows(path)
        self.config = config

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]:
        rows = [self.file.rows[self.file.span(k)] for k in indices]
        return [filter_detections(Detections(r[:, 2:6], r[:, 6]), self.config) for r in rows]
