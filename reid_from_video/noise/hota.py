"""HOTA: Higher Order Tracking Accuracy (Luiten et al., IJCV 2020), computed as TrackEval computes it.

The algorithm is TrackEval's ``trackeval/metrics/hota.py``, reimplemented with numpy over frame slices:

1. Global alignment. In every frame, each gt-tracker pair gets the similarity (IoU) normalised by the
   frame's row and column sums, ``S / (sum_col + sum_row - S)``; summed over frames, this "potential match
   count" gives every id pair a global alignment score ``A = pmc / (n_gt + n_tr - pmc)`` (a soft Jaccard
   index of the two tracks).
2. Per frame, one Hungarian assignment maximises ``A * S``. For each alpha in 0.05, 0.10, ..., 0.95 the
   assigned pairs with ``S >= alpha`` (up to float eps) are true positives; the other gt boxes are false
   negatives and the other tracker boxes false positives.
3. Per alpha: DetA = TP / (TP + FN + FP); for every matched id pair, with c its number of matches,
   AssA = sum(c * c / (n_gt + n_tr - c)) / TP (AssRe and AssPr likewise with n_gt and n_tr alone);
   LocA = mean IoU of the matches; HOTA = sqrt(DetA * AssA), OWTA = sqrt(DetRe * AssA).
4. The summary values are the means of the per-alpha values over the 19 alphas.

The inputs are tables (see :mod:`reid_from_video.io.mot`) that already went through the MOTChallenge
preprocessing (:func:`reid_from_video.noise.preprocess.scored_boxes`). Rows are taken in frame order, and in
file order within a frame, as TrackEval reads them; the quantities that steer a decision (the alignment
scores fed to the Hungarian assignment, the IoU compared with alpha) are computed with the same floating
point operations in the same order as TrackEval, so ties are broken the same way.

Conventions kept from TrackEval: with no tracker box (or no gt box) in a sequence, LocA is 1 for every alpha;
an alpha without true positives has LocA 1 and AssA 0.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from reid_from_video.io.mot import BOX_COLUMNS
from reid_from_video.noise.boxes import frame_slices, iou_xywh
from reid_from_video.noise.preprocess import EPS, by_frame

# The alphas exactly as TrackEval builds them (0.15 is 0.15000000000000002 there too).
ALPHAS = np.arange(0.05, 0.99, 0.05)


def _frozen(values) -> np.ndarray:
    array = np.array(values)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False, repr=False)
class HotaResult:
    """HOTA of one sequence, or of several combined (:func:`combine_hota`).

    The ``*_alpha`` arrays and ``tp``/``fn``/``fp`` hold one value per alpha of :data:`ALPHAS`; the plain
    floats are their means over the alphas (TrackEval's summary), ``hota0`` and ``loca0`` the values at
    the lowest alpha (TrackEval's HOTA(0), LocA(0)). All scores are fractions in [0, 1].
    """

    tp: np.ndarray
    fn: np.ndarray
    fp: np.ndarray
    hota_alpha: np.ndarray
    deta_alpha: np.ndarray
    assa_alpha: np.ndarray
    detre_alpha: np.ndarray
    detpr_alpha: np.ndarray
    assre_alpha: np.ndarray
    asspr_alpha: np.ndarray
    loca_alpha: np.ndarray
    owta_alpha: np.ndarray
    hota: float
    deta: float
    assa: float
    detre: float
    detpr: float
    assre: float
    asspr: float
    loca: float
    owta: float
    hota0: float
    loca0: float

    @property
    def alphas(self) -> np.ndarray:
        return ALPHAS

    def summary(self) -> dict[str, float]:
        """The summary values under TrackEval's names (fractions, not percent)."""
        return {
            "HOTA": self.hota,
            "DetA": self.deta,
            "AssA": self.assa,
            "DetRe": self.detre,
            "DetPr": self.detpr,
            "AssRe": self.assre,
            "AssPr": self.asspr,
            "LocA": self.loca,
            "OWTA": self.owta,
            "HOTA(0)": self.hota0,
            "LocA(0)": self.loca0,
            "HOTALocA(0)": self.hota0 * self.loca0,
        }

    def __repr__(self) -> str:
        names = [f.name for f in fields(self) if isinstance(getattr(self, f.name), float)]
        return "HotaResult(" + ", ".join(f"{name}={getattr(self, name):.4f}" for name in names) + ")"


def _result(
    tp: np.ndarray,
    fn: np.ndarray,
    fp: np.ndarray,
    assa: np.ndarray,
    assre: np.ndarray,
    asspr: np.ndarray,
    loca: np.ndarray,
) -> HotaResult:
    """The derived fields, as TrackEval's ``_compute_final_fields`` computes them."""
    detre = tp / np.maximum(1, tp + fn)
    detpr = tp / np.maximum(1, tp + fp)
    deta = tp / np.maximum(1, tp + fn + fp)
    hota = np.sqrt(deta * assa)
    owta = np.sqrt(detre * assa)
    arrays = {
        "hota": hota, "deta": deta, "assa": assa, "detre": detre, "detpr": detpr,
        "assre": assre, "asspr": asspr, "loca": loca, "owta": owta,
    }  # fmt: skip
    return HotaResult(
        tp=_frozen(tp),
        fn=_frozen(fn),
        fp=_frozen(fp),
        **{f"{name}_alpha": _frozen(values) for name, values in arrays.items()},
        **{name: float(np.mean(values)) for name, values in arrays.items()},
        hota0=float(hota[0]),
        loca0=float(loca[0]),
    )


def _empty(num_gt: int, num_tracker: int) -> HotaResult:
    """TrackEval's early return for a sequence without tracker boxes or without gt boxes."""
    zeros = np.zeros(len(ALPHAS))
    counts = np.zeros(len(ALPHAS), np.int64)
    fn = counts + (num_gt if num_tracker == 0 else 0)
    fp = counts + num_tracker
    return _result(counts, fn, fp, zeros, zeros, zeros, np.ones(len(ALPHAS)))


def _sorted_arrays(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The table sorted by frame (stable), its ids mapped to 0..n-1 (sorted order), the boxes, the counts."""
    table = by_frame(table)
    _, ids, counts = np.unique(table["id"].to_numpy(), return_inverse=True, return_counts=True)
    boxes = table[list(BOX_COLUMNS)].to_numpy(dtype=np.float64)
    _check_unique_ids(table["frame"].to_numpy(), ids)
    return table, ids.reshape(-1), boxes, counts.astype(np.float64)


def _check_unique_ids(frames: np.ndarray, ids: np.ndarray) -> None:
    if len(ids) < 2:
        return
    order = np.lexsort((ids, frames))
    same = (np.diff(frames[order]) == 0) & (np.diff(ids[order]) == 0)
    if same.any():
        raise ValueError(f"an id occurs twice in frame {int(frames[order][np.argmax(same)])}")


def hota(gt: pd.DataFrame, result: pd.DataFrame) -> HotaResult:
    """HOTA of one sequence from its scored ground truth and tracker tables (columns frame, id, x, y, w, h).

    Ids are arbitrary integers, each unique within a frame (ValueError otherwise). The tables need not be
    sorted; rows of one frame are used in table order.
    """
    from scipy.optimize import linear_sum_assignment  # here: scipy.optimize takes 0.2 s to import

    if len(result) == 0 or len(gt) == 0:
        return _empty(len(gt), len(result))
    gt, gt_ids, gt_boxes, gt_count = _sorted_arrays(gt)
    result, tr_ids, tr_boxes, tr_count = _sorted_arrays(result)
    num_tr = len(tr_count)
    gt_rows, tr_rows = frame_slices(gt), frame_slices(result)
    frames = sorted(gt_rows.keys() & tr_rows.keys())  # frames with one side empty only add FN or FP

    # Pass 1: every frame's IoU matrix and the normalised similarities of its overlapping pairs.
    sims, cells, pair_keys, pair_values = [], [], [], []
    for frame in frames:
        g, t = gt_rows[frame], tr_rows[frame]
        sim = iou_xywh(gt_boxes[g], tr_boxes[t])
        denom = sim.sum(0)[np.newaxis, :] + sim.sum(1)[:, np.newaxis] - sim
        sim_iou = np.zeros_like(sim)
        mask = denom > EPS
        sim_iou[mask] = sim[mask] / denom[mask]
        rows, cols = np.nonzero(sim > 0)  # pairs with zero IoU add nothing, and score 0 below
        sims.append(sim)
        cells.append((rows, cols))
        pair_keys.append(gt_ids[g][rows] * num_tr + tr_ids[t][cols])
        pair_values.append(sim_iou[rows, cols])

    # Global alignment score of every overlapping id pair. bincount adds in input order, i.e. frame by frame
    # as TrackEval does, so the sums are bit for bit TrackEval's.
    keys = np.concatenate(pair_keys) if pair_keys else np.empty(0, np.int64)
    unique_keys, key_index = np.unique(keys, return_inverse=True)
    potential = np.bincount(key_index, np.concatenate(pair_values) if pair_values else None, len(unique_keys))
    pair_gt, pair_tr = np.divmod(unique_keys, num_tr)
    alignment = potential / (gt_count[pair_gt] + tr_count[pair_tr] - potential)

    # Pass 2: per frame, the Hungarian assignment maximising alignment * IoU.
    matched_keys, matched_sims = [], []
    start = 0
    for frame, sim, (rows, cols) in zip(frames, sims, cells, strict=True):
        stop = start + len(rows)
        score = np.zeros_like(sim)
        score[rows, cols] = alignment[key_index[start:stop]] * sim[rows, cols]
        start = stop
        match_rows, match_cols = linear_sum_assignment(-score)
        match_sim = sim[match_rows, match_cols]
        keep = match_sim >= ALPHAS[0] - EPS  # the others match at no alpha
        g, t = gt_rows[frame], tr_rows[frame]
        matched_keys.append(gt_ids[g][match_rows[keep]] * num_tr + tr_ids[t][match_cols[keep]])
        matched_sims.append(match_sim[keep])

    keys = np.concatenate(matched_keys) if matched_keys else np.empty(0, np.int64)
    matched_sim = np.concatenate(matched_sims) if matched_sims else np.empty(0)
    unique_keys, key_index = np.unique(keys, return_inverse=True)
    pair_gt, pair_tr = np.divmod(unique_keys, num_tr)
    pair_gt_count, pair_tr_count = gt_count[pair_gt], tr_count[pair_tr]

    n = len(ALPHAS)
    tp = np.zeros(n, np.int64)
    assa, assre, asspr, loca = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for a, alpha in enumerate(ALPHAS):
        hit = matched_sim >= alpha - EPS
        tp[a] = np.count_nonzero(hit)
        matches = np.bincount(key_index[hit], minlength=len(unique_keys)).astype(np.float64)
        total = max(1, tp[a])
        assa[a] = np.sum(matches * (matches / np.maximum(1, pair_gt_count + pair_tr_count - matches))) / total
        assre[a] = np.sum(matches * (matches / np.maximum(1, pair_gt_count))) / total
        asspr[a] = np.sum(matches * (matches / np.maximum(1, pair_tr_count))) / total
        loca[a] = np.sum(matched_sim[hit])
    loca = np.maximum(1e-10, loca) / np.maximum(1e-10, tp)
    return _result(tp, len(gt) - tp, len(result) - tp, assa, assre, asspr, loca)


def combine_hota(results: list[HotaResult]) -> HotaResult:
    """Several sequences as one, as TrackEval's ``HOTA.combine_sequences`` does.

    TP, FN and FP are summed; AssA, AssRe and AssPr are averaged weighted by each sequence's TP, LocA too
    (the LocA of an alpha without true positives is then 1); the rest follows from these.
    """
    if not results:
        raise ValueError("no results to combine")
    tp = sum(r.tp for r in results)
    fn = sum(r.fn for r in results)
    fp = sum(r.fp for r in results)
    weights = np.maximum(1.0, tp)
    assa = sum(r.assa_alpha * r.tp for r in results) / weights
    assre = sum(r.assre_alpha * r.tp for r in results) / weights
    asspr = sum(r.asspr_alpha * r.tp for r in results) / weights
    loca = np.maximum(1e-10, sum(r.loca_alpha * r.tp for r in results)) / np.maximum(1e-10, tp)
    return _result(tp, fn, fp, assa, assre, asspr, loca)
