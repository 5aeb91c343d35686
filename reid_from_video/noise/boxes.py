"""Box geometry and per-frame grouping shared by every tracking metric.

Boxes are MOTChallenge ``(x, y, w, h)``: top-left corner, width, height, in pixels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rfv_trackers.matching import iou_xywh  # the one IoU, shared with the tracker (no torch there)

__all__ = ["frame_slices", "iou_xywh"]


def frame_slices(table: pd.DataFrame) -> dict[int, slice]:
    """For a table sorted by frame: frame -> the slice of its rows (one pass, no per-frame filtering)."""
    frames = table["frame"].to_numpy()
    if not len(frames):
        return {}
    if np.any(np.diff(frames) < 0):
        raise ValueError("table must be sorted by frame")
    values, starts = np.unique(frames, return_index=True)
    ends = np.append(starts[1:], len(frames))
    return {int(f): slice(int(s), int(e)) for f, s, e in zip(values, starts, ends, strict=True)}
