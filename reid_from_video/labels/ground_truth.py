"""Ground-truth identities for a tracked store: which gt person each crop, and each tracklet, shows.

A tracker knows nothing of identities, so a store written by ``rfv track`` has an empty ``gt_id`` column.
Where the videos come with MOTChallenge ground truth (``rfv synth`` worlds, MOT17, PETS09), the identities
are recovered the way the tracking metrics do it (:mod:`reid_from_video.noise.rfm_rsw`): in every frame the
camera's crop boxes are matched one to one to the scored gt boxes (pedestrians with the consider flag set) by
Hungarian assignment maximising IoU, pairs below the IoU threshold excluded. Only then can a labelling method
such as SSTT be scored (how often it gives one person two labels) without a human in the loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.core.errors import InputError
from reid_from_video.io.mot import find_sequences, pedestrians, read_mot
from reid_from_video.noise.preprocess import by_frame, frame_matches


def attach_gt_ids(index: pd.DataFrame, gt_root: str | Path, iou: float = 0.5) -> pd.DataFrame:
    """A copy of the store ``index`` whose ``gt_id`` holds the gt identity matched to each row.

    Camera ``c`` of the index is the MOTChallenge sequence folder ``c`` under ``gt_root``
    (:func:`reid_from_video.io.mot.find_sequences`: ``gt_root/<c>/gt/gt.txt`` as ``rfv synth`` writes it, or
    a MOT17-style ``train`` folder); ``gt_root`` may also be a single sequence folder for a one-camera index.
    The index ``frame`` is the 1-based video frame number, as MOTChallenge gt counts frames. Rows matched to
    no pedestrian at IoU >= ``iou`` get NA; any ``gt_id`` the index held before is replaced.

    Raises :class:`InputError` naming ``gt_root`` when a camera of the index has no sequence there (or
    ``gt_root`` holds none), and naming the file when a gt file is missing or malformed.
    """
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou must be in (0, 1], not {iou!r}")
    missing = [c for c in ("camera", "track", "frame", "x", "y", "w", "h") if c not in index.columns]
    if missing:
        raise ValueError(f"index table lacks columns {missing}")
    gt_root = Path(gt_root)
    sequences = find_sequences(gt_root)
    cameras = sorted(index["camera"].unique())
    absent = [c for c in cameras if c not in sequences]
    if absent:
        raise InputError(
            gt_root,
            f"no ground-truth sequence for camera(s) {absent} (a folder <camera>/gt/gt.txt); "
            f"found {sorted(sequences)}",
        )
    gt_ids = np.zeros(len(index), np.int64)
    matched = np.zeros(len(index), bool)
    cameras_column = index["camera"].to_numpy()
    for camera in cameras:
        positions = np.flatnonzero(cameras_column == camera)
        gt = by_frame(pedestrians(read_mot(sequences[camera] / "gt" / "gt.txt", "gt")))
        rows = index.iloc[positions]
        order = np.argsort(rows["frame"].to_numpy(), kind="stable")  # frame_matches wants frame order
        result = rows.iloc[order]
        matched_gt, matched_res = frame_matches(gt, result, iou)
        targets = positions[order[matched_res]]
        gt_ids[targets] = gt["id"].to_numpy(np.int64)[matched_gt]
        matched[targets] = True
    out = index.copy()
    out["gt_id"] = pd.arrays.IntegerArray(gt_ids, ~matched)
    return out
