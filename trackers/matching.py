"""Association: cost matrices, Mahalanobis gating, linear assignment, the matching cascade.

Costs are (tracks, detections) arrays; a cost above the stage's threshold is never a match. Gated pairs get
:data:`INFTY_COST`, so the assignment treats them as impossible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import lap
import numpy as np

INFTY_COST = 1e5

Matches = list[tuple[int, int]]


def linear_assignment(
    cost: np.ndarray, max_cost: float, rows: Sequence[int], cols: Sequence[int]
) -> tuple[Matches, list[int], list[int]]:
    """Minimum-cost one-to-one matching of ``rows`` (track indices) to ``cols`` (detection indices).

    ``cost`` is (len(rows), len(cols)). Pairs costing more than ``max_cost`` stay unmatched. Returns the
    matches as (row, col) index pairs and the unmatched rows and cols, all in the caller's indices.
    """
    rows, cols = list(rows), list(cols)
    if not rows or not cols:
        return [], rows, cols
    # lapjv with cost_limit solves the problem extended by "unmatched" options costing max_cost / 2 each,
    # so a pair above max_cost is never chosen; a tiny epsilon keeps pairs at exactly max_cost.
    _, x, _ = lap.lapjv(np.asarray(cost, dtype=float), extend_cost=True, cost_limit=max_cost + 1e-5)
    matches = [(rows[i], cols[j]) for i, j in enumerate(x) if j >= 0 and cost[i, j] <= max_cost]
    matched_rows = {r for r, _ in matches}
    matched_cols = {c for _, c in matches}
    return (
        matches,
        [r for r in rows if r not in matched_rows],
        [c for c in cols if c not in matched_cols],
    )


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``a`` (n x 4) with every box of ``b`` (m x 4): n x m.

    Boxes are top-left x, y, width, height. Boxes of zero area have IoU 0 with everything (no division by
    zero). The one IoU of the project: ``reid_from_video.noise.boxes`` (the tracking metrics) uses it too.
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
        return np.where(inter > 0, inter / union, 0.0)


def iou_cost(track_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
    """1 - IoU: 0 for identical boxes, 1 for disjoint ones."""
    return 1.0 - iou_xywh(track_boxes, det_boxes)


def cosine_distance_to_galleries(galleries: Sequence[np.ndarray], features: np.ndarray) -> np.ndarray:
    """(tracks, detections): smallest cosine distance from each detection to any sample of a track's gallery.

    Galleries and features are L2-normalised rows; all galleries are stacked into one matrix product and
    reduced per track, rather than one product per track.
    """
    if not galleries or len(features) == 0:
        return np.zeros((len(galleries), len(features)))
    stacked = np.concatenate(galleries, axis=0)
    starts = np.cumsum([0] + [len(g) for g in galleries[:-1]])
    distances = 1.0 - stacked @ np.asarray(features, dtype=float).T
    return np.minimum.reduceat(distances, starts, axis=0)


def gate(cost: np.ndarray, squared_mahalanobis: np.ndarray, threshold: float) -> np.ndarray:
    """The cost with every pair whose squared Mahalanobis distance exceeds ``threshold`` made impossible."""
    cost = cost.copy()
    cost[squared_mahalanobis > threshold] = INFTY_COST
    return cost


CostFunction = Callable[[list[int], list[int]], np.ndarray]


def matching_cascade(
    cost_fn: CostFunction,
    max_cost: float,
    track_ages: Sequence[int],
    track_indices: Sequence[int],
    det_indices: Sequence[int],
    depth: int,
) -> tuple[Matches, list[int], list[int]]:
    """DeepSORT's matching cascade: tracks seen most recently choose first.

    Level ``k`` (k = 1..depth) matches the tracks whose ``time_since_update`` (``track_ages``) is k against
    the detections still unmatched, so that a track lost for long, whose Kalman uncertainty has spread,
    cannot take a detection from a track seen in the previous frame. ``cost_fn(tracks, dets)`` gives the
    (gated) cost.
    Tracks older than ``depth`` are left unmatched.
    """
    unmatched_dets = list(det_indices)
    matches: Matches = []
    by_age: dict[int, list[int]] = {}
    for t in track_indices:
        by_age.setdefault(track_ages[t], []).append(t)
    for level in range(1, depth + 1):
        if not unmatched_dets:
            break
        tracks = by_age.get(level)
        if not tracks:
            continue  # nothing at this level: skip without an assignment
        level_matches, _, unmatched_dets = linear_assignment(
            cost_fn(tracks, unmatched_dets), max_cost, tracks, unmatched_dets
        )
        matches.extend(level_matches)
    matched = {t for t, _ in matches}
    return matches, [t for t in track_indices if t not in matched], unmatched_dets
