"""Box geometry and per-frame grouping shared by every tracking metric.

Boxes are MOTChallenge ``(x, y, w, h)``: top-left corner, width, height, in pixels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` (n x 4) with every box of ``b`` (m x 4): n x m.

    Boxes of zero area have IoU 0 with everything (no division by zero).
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    # Corners first, sizes from the corners: the arithmetic of TrackEval and motmetrics, so that IoU values
    # (and matches decided exactly at the threshold) are bit-identical to theirs.
    ax0, ay0 = a[:, 0:1], a[:, 1:2]
    ax1, ay1 = ax0 + a[:, 2:3], ay0 + a[:, 3:4]
    bx0, by0 = b[:, 0], b[:, 1]
    bx1, by1 = bx0 + b[:, 2], by0 + b[:, 3]
    iw = np.maximum(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0.0)
    ih = np.maximum(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0.0)
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(inter > 0, inter / union, 0.0)
    return iou


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
