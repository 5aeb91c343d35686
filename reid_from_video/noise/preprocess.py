"""Which boxes are scored: the MOTChallenge preprocessing that TrackEval and the official devkit apply.

The rule (MOT16/17/20; MOT15 has no classes, so only the flag applies):

1. In every frame, tracker boxes are matched one to one to *all* ground-truth boxes (any class, any consider
   flag) by Hungarian assignment maximising IoU, pairs below the IoU threshold (0.5) excluded.
2. A tracker box matched to a distractor (classes 2 person on vehicle, 7 static person, 8 distractor,
   12 reflection) is removed: it counts neither as a true nor as a false positive.
3. Only pedestrians (class 1) with the consider flag set are scored as ground truth; every other gt box is
   dropped (tracker boxes on them stay, and are false positives unless they match a scored pedestrian).

With preprocessing off, the ground truth is every row whose consider flag is set (any class) and no tracker
box is removed: what motmetrics' ``eval_motchallenge`` app does.

Before the rule, :func:`occluded_as_distractors` can turn the pedestrians seen less than a given visibility
into distractors (``rfv mot-eval min_visibility=...``, off by default), so that the rule neither scores them
nor counts tracker boxes on them as false positives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reid_from_video.io.mot import BOX_COLUMNS, DISTRACTOR_CLASSES, PEDESTRIAN, pedestrians
from reid_from_video.noise.boxes import frame_slices, iou_xywh

# TrackEval compares IoU with the threshold up to float rounding: 0.5 - eps still matches.
EPS = np.finfo(float).eps
DISTRACTOR = 8  # MOTChallenge class "distractor", one of DISTRACTOR_CLASSES


@dataclass(frozen=True)
class Scored:
    """The ground truth and tracker boxes that the metrics see, and how many tracker boxes were removed."""

    gt: pd.DataFrame
    result: pd.DataFrame
    removed: int


def occluded_as_distractors(gt: pd.DataFrame, min_visibility: float) -> pd.DataFrame:
    """``gt`` with the pedestrians seen less than ``min_visibility`` (visibility known, >= 0) relabelled
    as distractors (class 8), so the preprocessing neither scores them nor counts boxes on them as FP."""
    if min_visibility <= 0:
        return gt
    hidden = (gt["cls"] == PEDESTRIAN) & (gt["vis"] >= 0) & (gt["vis"] < min_visibility)
    if not hidden.any():
        return gt
    gt = gt.copy()
    gt.loc[hidden, "cls"] = DISTRACTOR
    return gt


def by_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` sorted by frame, stable (rows of a frame keep their order); itself when already sorted."""
    frames = table["frame"].to_numpy()
    if len(frames) < 2 or not np.any(np.diff(frames) < 0):
        return table
    return table.iloc[np.argsort(frames, kind="stable")]


def match_pairs(iou: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the Hungarian assignment maximising IoU, keeping pairs with IoU >= threshold."""
    from scipy.optimize import linear_sum_assignment  # here: scipy.optimize takes 0.2 s to import

    if iou.size == 0:
        return np.empty(0, int), np.empty(0, int)
    scores = np.where(iou >= threshold - EPS, iou, 0.0)
    rows, cols = linear_sum_assignment(-scores)
    keep = scores[rows, cols] > EPS
    return rows[keep], cols[keep]


def frame_matches(
    gt: pd.DataFrame, result: pd.DataFrame, iou: float, only: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions ``(gt rows, result rows)`` of the pairs matched one to one in every frame
    (:func:`match_pairs` on the IoU of the frame's boxes), for tables sorted by frame (:func:`by_frame`).

    ``only`` (a boolean per gt row) skips the frames where it holds for no gt row.
    """
    gt_boxes = gt[list(BOX_COLUMNS)].to_numpy(np.float64)
    res_boxes = result[list(BOX_COLUMNS)].to_numpy(np.float64)
    gt_frames = frame_slices(gt)
    gt_rows, res_rows = [np.empty(0, int)], [np.empty(0, int)]
    for frame, rows in frame_slices(result).items():
        g = gt_frames.get(frame)
        if g is None or (only is not None and not only[g].any()):
            continue
        matched_gt, matched_res = match_pairs(iou_xywh(gt_boxes[g], res_boxes[rows]), iou)
        gt_rows.append(g.start + matched_gt)
        res_rows.append(rows.start + matched_res)
    return np.concatenate(gt_rows), np.concatenate(res_rows)


def scored_boxes(gt: pd.DataFrame, result: pd.DataFrame, preprocess: bool = True, iou: float = 0.5) -> Scored:
    """Apply the rule of the module docstring to one sequence."""
    if not preprocess:
        return Scored(gt[gt["conf"] >= 1].reset_index(drop=True), result.reset_index(drop=True), 0)
    gt = by_frame(gt).reset_index(drop=True)
    result = by_frame(result).reset_index(drop=True)
    # Only frames with a distractor can lose a box: the others are not matched here.
    distractor = np.isin(gt["cls"].to_numpy(), DISTRACTOR_CLASSES)
    matched_gt, matched_res = frame_matches(gt, result, iou, only=distractor)
    remove = np.zeros(len(result), bool)
    remove[matched_res[distractor[matched_gt]]] = True
    kept = result[~remove].reset_index(drop=True)
    return Scored(pedestrians(gt).reset_index(drop=True), kept, int(remove.sum()))
