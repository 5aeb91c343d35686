"""CMC and mAP of a query/gallery ranking, as the official MARS (and Market-1501) evaluation code scores it.

For each query the gallery is sorted by distance, ascending (ties keep gallery order, as MATLAB's ``sort``).
Gallery items that share the query's identity *and* camera are junk, and so is every gallery item whose
identity is in ``junk_ids`` (MARS: person 0, "junk" images); junk is removed from the ranking before
anything is counted. The good matches are the same identity in another camera; everything else, including
distractors (MARS person -1), is a wrong match. On the ranking without junk:

- CMC at rank k: 1 when the first good match is among the first k;
- AP, ``trapezoid`` (the official ``compute_AP.m``): the area under the precision-recall curve by the
  trapezoid rule, with precision 1 at recall 0; ``step`` (torchreid, fast-reid): the mean of the precision
  at each good match.

Queries without any good match are not valid: they are counted (``queries`` vs ``valid_queries``) and left
out of the means. The official code divides by all queries; the two agree whenever every query is valid,
which is the case for MARS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

AP_MODES = ("trapezoid", "step")


@dataclass(frozen=True)
class RankingResult:
    """``cmc[k - 1]`` = share of valid queries matched within rank k (k up to ``len(cmc)``), ``ap`` per
    query (NaN for queries that are not valid), ``first_match`` the 0-based rank of each query's first good
    match in the ranking without junk (-1 when none)."""

    cmc: np.ndarray
    ap: np.ndarray
    first_match: np.ndarray

    @property
    def queries(self) -> int:
        return len(self.ap)

    @property
    def valid(self) -> np.ndarray:
        return self.first_match >= 0

    @property
    def valid_queries(self) -> int:
        return int(self.valid.sum())

    @property
    def mean_ap(self) -> float:
        return float(np.mean(self.ap[self.valid])) if self.valid_queries else float("nan")

    def rank(self, k: int) -> float:
        """CMC at rank ``k`` (1-based)."""
        return float(self.cmc[min(k, len(self.cmc)) - 1]) if len(self.cmc) else float("nan")


def rank_chunk(
    distances: np.ndarray,
    query_ids: np.ndarray,
    query_cams: np.ndarray,
    gallery_ids: np.ndarray,
    gallery_cams: np.ndarray,
    junk_ids: Iterable[int] = (),
    ap_mode: str = "trapezoid",
) -> tuple[np.ndarray, np.ndarray]:
    """(AP, first good rank) of each query (row) of a query x gallery distance block."""
    if ap_mode not in AP_MODES:
        raise ValueError(f"ap_mode must be one of {AP_MODES}, not {ap_mode!r}")
    distances = np.asarray(distances)
    if distances.shape != (len(query_ids), len(gallery_ids)):
        raise ValueError(f"distances are {distances.shape}, expected ({len(query_ids)}, {len(gallery_ids)})")
    order = np.argsort(distances, axis=1, kind="stable")
    same_id = query_ids[:, None] == gallery_ids[order]
    same_cam = query_cams[:, None] == gallery_cams[order]
    junk = (same_id & same_cam) | np.isin(gallery_ids, list(junk_ids))[order]
    good = same_id & ~same_cam & ~junk
    kept_rank = np.cumsum(~junk, axis=1) - 1  # 0-based rank once junk is removed
    good_count = np.cumsum(good, axis=1)  # k at the k-th good match
    n_good = good_count[:, -1] if good.shape[1] else np.zeros(len(good), np.int64)

    rows, cols = np.nonzero(good)
    k = good_count[rows, cols].astype(np.float64)
    r = kept_rank[rows, cols].astype(np.float64)
    precision = k / (r + 1)
    if ap_mode == "trapezoid":
        # compute_AP.m: each good match adds (recall step) * (previous precision + precision) / 2, where the
        # previous precision is that of the rank just above (1 above the first rank).
        previous = np.where(r > 0, (k - 1) / np.maximum(r, 1), 1.0)
        precision = (previous + precision) / 2
    ap = np.full(len(good), np.nan)
    valid = n_good > 0
    sums = np.bincount(rows, weights=precision, minlength=len(good))
    ap[valid] = sums[valid] / n_good[valid]
    first = np.full(len(good), -1, np.int64)
    has = np.flatnonzero(valid)
    first[has] = kept_rank[has, np.argmax(good[has], axis=1)]
    return ap, first


def ranking_result(ap: np.ndarray, first_match: np.ndarray, max_rank: int) -> RankingResult:
    """Combine per-query results (from the chunks of :func:`rank_chunk`) into CMC up to ``max_rank``."""
    valid = first_match >= 0
    if valid.any():
        cmc = np.array([(first_match[valid] < k).mean() for k in range(1, max_rank + 1)])
    else:
        cmc = np.full(max_rank, np.nan)
    return RankingResult(cmc=cmc, ap=ap, first_match=first_match)
