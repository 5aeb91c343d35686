"""A straightforward dense implementation of k-reciprocal encoding (Zhong et al. 2017), the published
algorithm line by line with N x N matrices: the reference that the sparse code is checked (and benchmarked)
against. Not used by the package."""

from __future__ import annotations

import numpy as np


def dense_jaccard(features: np.ndarray, k1: int, k2: int) -> tuple[np.ndarray, np.ndarray]:
    """(jaccard, scaled): the N x N Jaccard distance and the squared distance scaled by its row maximum."""
    feats = np.asarray(features, np.float64)
    n = len(feats)
    sq = (feats**2).sum(1)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2 * feats @ feats.T, 0)
    np.fill_diagonal(dist, 0)
    dist = np.transpose(dist / np.max(dist, axis=0))
    v = np.zeros((n, n))
    rank = np.argsort(dist, axis=1, kind="stable")

    def reciprocal(i, k):
        forward = rank[i, : k + 1]
        backward = rank[forward, : k + 1]
        return forward[np.where(backward == i)[0]]

    for i in range(n):
        kri = reciprocal(i, k1)
        expansion = kri
        for c in kri:
            ckri = reciprocal(c, int(np.around(k1 / 2)))
            if len(np.intersect1d(ckri, kri)) > 2 / 3 * len(ckri):
                expansion = np.append(expansion, ckri)
        expansion = np.unique(expansion)
        weight = np.exp(-dist[i, expansion])
        v[i, expansion] = weight / weight.sum()
    if k2 != 1:
        v = np.stack([v[rank[i, :k2]].mean(0) for i in range(n)])
    jaccard = np.zeros((n, n))
    for i in range(n):
        minima = np.minimum(v[i][None, :], v).sum(1)
        jaccard[i] = 1 - minima / (2 - minima)
    return jaccard, dist


def dense_eps(distances: np.ndarray, rho: float) -> float:
    """The data-dependent eps of the MMT / TMC code: mean of the smallest rho share of the nonzero upper
    triangle."""
    upper = np.triu(distances, 1)
    values = np.sort(upper[np.nonzero(upper)], axis=None)
    return float(values[: int(np.round(rho * values.size))].mean())
