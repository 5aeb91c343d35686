"""CLEAR MOT as MOTChallenge's official evaluator (TrackEval) counts it: the default of ``rfv mot-eval``.

The contract, per sequence, frame by frame (``iou`` the match threshold, similarity = IoU of the boxes):

* A frame without gt boxes adds its tracker boxes to FP; one without tracker boxes adds its gt boxes to FN
  (and to each gt id's frame count). Neither frame changes which tracker id a gt id was matched to "in the
  previous frame": that memory skips over them.
* Otherwise gt and tracker boxes are matched by one maximum-score assignment, score = IoU + 1000 if the pair
  was matched in the previous frame, pairs below ``iou`` excluded. A gt id matched in the previous frame
  keeps its partner whenever the pair is still valid; the rest maximises the summed IoU.
* IDSW: a matched gt id whose tracker id differs from the one it was last matched to, at any earlier frame.
* Frag: per gt id, the number of times it becomes matched after a frame (with tracker boxes) in which it
  was not, less one.
* MT / PT / ML: per gt id, matched frames / frames present: MT > 0.8, ML < 0.2, PT the rest.
* MOTA = (TP - FP - IDSW) / (TP + FN), MOTP = mean IoU of the matches, recall = TP / (TP + FN), precision
  = TP / (TP + FP).

Combined over sequences: the counts are summed and the ratios recomputed (MOTP from the summed IoU).

motmetrics, the other option (``clear=motmetrics``, :mod:`reid_from_video.noise.clear`), differs in two
places: it keeps a gt id's last partner over frames where it was not matched (TrackEval favours only the
previous frame's match), and it counts MT at coverage >= 0.8. On the reference DeepSORT's MOT17 outputs
that moves IDSW, FP and MT by a few per sequence. ``tests/test_clear_motchallenge.py`` checks every field
against TrackEval's own CLEAR class.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from reid_from_video.io.mot import BOX_COLUMNS
from reid_from_video.noise.boxes import frame_slices, iou_xywh

CONTINUITY_BONUS = 1000.0  # larger than any sum of IoUs a frame can reach: keeping a match comes first
EPS = np.finfo(float).eps
MOSTLY_TRACKED, MOSTLY_LOST = 0.8, 0.2


@dataclass(frozen=True)
class ClearCounts:
    """The counts of one sequence, or of several summed; the ratios are properties."""

    tp: int = 0
    fn: int = 0
    fp: int = 0
    idsw: int = 0
    frag: int = 0
    mt: int = 0
    pt: int = 0
    ml: int = 0
    iou_sum: float = 0.0  # of the matched pairs
    gt_ids: int = 0

    @property
    def mota(self) -> float:
        return (self.tp - self.fp - self.idsw) / max(1, self.tp + self.fn)

    @property
    def motp(self) -> float:
        return self.iou_sum / max(1, self.tp)

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)

    def __add__(self, other: ClearCounts) -> ClearCounts:
        return ClearCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_report(self) -> dict[str, float]:
        """The values under the report's (motmetrics') names."""
        return {
            "mota": self.mota,
            "motp": self.motp,
            "recall": self.recall,
            "precision": self.precision,
            "num_false_positives": float(self.fp),
            "num_misses": float(self.fn),
            "num_switches": float(self.idsw),
            "num_fragmentations": float(self.frag),
            "mostly_tracked": float(self.mt),
            "partially_tracked": float(self.pt),
            "mostly_lost": float(self.ml),
            "num_objects": float(self.tp + self.fn),
            "num_predictions": float(self.tp + self.fp),
            "num_unique_objects": float(self.gt_ids),
        }


def clear_counts(gt: pd.DataFrame, result: pd.DataFrame, iou: float = 0.5) -> ClearCounts:
    """The CLEAR counts of one sequence from its scored gt and result tables (see the module docstring)."""
    gt_ids, gt_index = np.unique(gt["id"].to_numpy(), return_inverse=True)
    _, tr_index = np.unique(result["id"].to_numpy(), return_inverse=True)
    gt, result = gt.reset_index(drop=True), result.reset_index(drop=True)
    order_gt = np.argsort(gt["frame"].to_numpy(), kind="stable")
    order_tr = np.argsort(result["frame"].to_numpy(), kind="stable")
    gt, gt_index = gt.iloc[order_gt].reset_index(drop=True), gt_index[order_gt]
    result, tr_index = result.iloc[order_tr].reset_index(drop=True), tr_index[order_tr]
    gt_boxes, tr_boxes = gt[list(BOX_COLUMNS)].to_numpy(float), result[list(BOX_COLUMNS)].to_numpy(float)
    gt_rows = frame_slices(gt) if len(gt) else {}
    tr_rows = frame_slices(result) if len(result) else {}

    n = len(gt_ids)
    last_partner = np.full(n, -1)  # tracker id of each gt id's latest match (IDSW)
    previous = np.full(n, -1)  # tracker id matched in the previous frame that had both kinds of boxes
    present, matched, starts = np.zeros(n, int), np.zeros(n, int), np.zeros(n, int)
    tp = fn = fp = idsw = 0
    iou_sum = 0.0
    none = slice(0, 0)
    for frame in sorted(gt_rows.keys() | tr_rows.keys()):
        g, t = gt_rows.get(frame, none), tr_rows.get(frame, none)
        objects, hypotheses = gt_index[g], tr_index[t]
        if not len(objects):
            fp += len(hypotheses)
            continue
        present[objects] += 1
        if not len(hypotheses):
            fn += len(objects)
            continue
        similarity = iou_xywh(gt_boxes[g], tr_boxes[t])
        score = similarity + CONTINUITY_BONUS * (previous[objects][:, None] == hypotheses[None, :])
        score[similarity < iou - EPS] = 0.0
        rows, cols = linear_sum_assignment(-score)  # as TrackEval calls it: ties break the same way
        keep = score[rows, cols] > EPS
        rows, cols = rows[keep], cols[keep]
        who, partner = objects[rows], hypotheses[cols]
        idsw += int(np.count_nonzero((last_partner[who] >= 0) & (last_partner[who] != partner)))
        last_partner[who] = partner
        was_tracked = previous >= 0
        previous[:] = -1
        previous[who] = partner
        starts += (previous >= 0) & ~was_tracked
        matched[who] += 1
        tp += len(who)
        fn += len(objects) - len(who)
        fp += len(hypotheses) - len(who)
        iou_sum += float(similarity[rows, cols].sum())
    seen = present > 0
    coverage = matched[seen] / present[seen]
    mt = int(np.count_nonzero(coverage > MOSTLY_TRACKED))
    ml = int(np.count_nonzero(coverage < MOSTLY_LOST))
    return ClearCounts(
        tp=tp,
        fn=fn,
        fp=fp,
        idsw=idsw,
        frag=int(np.maximum(starts - 1, 0).sum()),
        mt=mt,
        pt=int(np.count_nonzero(seen)) - mt - ml,
        ml=ml,
        iou_sum=iou_sum,
        gt_ids=int(np.count_nonzero(seen)),
    )
