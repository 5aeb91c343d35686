"""TrackEval's per-sequence input, built from our scored tables, for the tests that compare a metric with
TrackEval's own class of it (tests/test_hota.py, tests/test_clear_motchallenge.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reid_from_video.noise.boxes import frame_slices, iou_xywh


def trackeval_data(gt: pd.DataFrame, result: pd.DataFrame) -> dict:
    """TrackEval's per-sequence ``data`` dict (what HOTA.eval_sequence reads) from two scored tables."""
    gt = gt.sort_values("frame", kind="stable").reset_index(drop=True)
    result = result.sort_values("frame", kind="stable").reset_index(drop=True)
    gt_unique, gt_ids = np.unique(gt["id"].to_numpy(), return_inverse=True)
    tr_unique, tr_ids = np.unique(result["id"].to_numpy(), return_inverse=True)
    gt_boxes, tr_boxes = gt[["x", "y", "w", "h"]].to_numpy(), result[["x", "y", "w", "h"]].to_numpy()
    # frame_slices fails on an empty table (ends gets one element too many), hence the guard
    gt_rows, tr_rows = (frame_slices(t) if len(t) else {} for t in (gt, result))
    timesteps = max([0, *gt_rows, *tr_rows])
    data = {
        "num_timesteps": timesteps,
        "num_gt_ids": len(gt_unique),
        "num_tracker_ids": len(tr_unique),
        "num_gt_dets": len(gt),
        "num_tracker_dets": len(result),
        "gt_ids": [],
        "tracker_ids": [],
        "similarity_scores": [],
    }
    none = slice(0, 0)
    for frame in range(1, timesteps + 1):
        g, t = gt_rows.get(frame, none), tr_rows.get(frame, none)
        data["gt_ids"].append(gt_ids[g])
        data["tracker_ids"].append(tr_ids[t])
        data["similarity_scores"].append(iou_xywh(gt_boxes[g], tr_boxes[t]))
    return data
