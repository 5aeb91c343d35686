"""k-reciprocal encoding and Jaccard distance (Zhong et al., CVPR 2017), from a sparse top-k neighbour graph.

The published re-ranking code holds several N x N dense matrices; here every step is a sparse matrix with
about k1 entries per row, so N can be in the tens of thousands. Given features x_1..x_N:

1. d(i, j) = squared Euclidean distance divided by the largest d(i, .) of row i (the published scaling);
2. N(i, k): the k + 1 nearest (i itself first); R(i, k) = {j in N(i, k): i in N(j, k)}, the k-reciprocal set;
3. R*(i) = R(i, k1), extended by R(c, round(k1 / 2)) of every c in it that shares more than 2/3 of that set
   with R(i, k1);
4. V(i, j) = exp(-d(i, j)) on R*(i), rows summing to 1; with k2 > 1, V(i) is replaced by the mean of V(j)
   over j in N(i, k2 - 1) (local query expansion);
5. Jaccard distance: 1 - sum_k min(V(i,k), V(j,k)) / sum_k max(V(i,k), V(j,k)), i.e. 1 - m / (2 - m) with
   m the sum of minima (rows sum to 1); 1 for pairs sharing no neighbour.

Re-ranking (:func:`rerank_blocks`) mixes it with the scaled original distance:
``(1 - lambda) * jaccard + lambda * d``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from reid_from_video.evaluate.distance import squared_euclidean


def nearest_neighbours(features: np.ndarray, k: int, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(indices, row maxima): the ``k + 1`` nearest of every row by squared Euclidean distance (nearest
    first, ties by index) and the largest squared distance of every row, computed ``block`` rows at a time."""
    n = len(features)
    k = min(k + 1, n)
    indices = np.empty((n, k), np.int64)
    row_max = np.empty(n)
    for start in range(0, n, block):
        d = squared_euclidean(features[start : start + block], features)
        rows = np.arange(len(d))
        d[rows, start + rows] = 0.0  # the exact self distance (rounding can leave a tiny positive)
        row_max[start : start + len(d)] = d.max(axis=1)
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(d), 1))
        # Sort the k candidates by (distance, index): a stable order whatever argpartition returned.
        keys = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, keys), axis=1)
        indices[start : start + len(d)] = np.take_along_axis(part, order, axis=1)
    return indices, row_max


def _membership(indices: np.ndarray, n: int) -> sp.csr_matrix:
    """Boolean sparse matrix: row i has ones at ``indices[i]``."""
    rows = np.repeat(np.arange(len(indices)), indices.shape[1])
    data = np.ones(indices.size, bool)
    return sp.csr_matrix((data, (rows, indices.ravel())), shape=(n, n))


def _reciprocal(indices: np.ndarray, k: int, n: int) -> sp.csr_matrix:
    """R(i, k) as a boolean sparse matrix: j in the k + 1 nearest of i and i in those of j."""
    member = _membership(indices[:, : k + 1], n)
    return member.multiply(member.T).tocsr().astype(bool)


def reciprocal_vectors(
    features: np.ndarray, k1: int = 20, k2: int = 6, block: int = 1024
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """(V, nearest, row_max): the k-reciprocal encoding V (sparse N x N, rows summing to 1, after query
    expansion with ``k2``), the neighbour indices and the row maxima used to scale distances."""
    features = np.ascontiguousarray(features, np.float64)
    n = len(features)
    if n == 0:
        raise ValueError("no features")
    nearest, row_max = nearest_neighbours(features, max(k1, k2), block)
    k1, half = min(k1, n - 1), min(int(np.around(k1 / 2)), n - 1)
    r_full = _reciprocal(nearest, k1, n)
    r_half = _reciprocal(nearest, half, n)
    # Candidates c in R(i, k1) whose R(c, k1/2) overlaps R(i, k1) by more than 2/3 of |R(c, k1/2)|.
    overlap = r_full.astype(np.float64) @ r_half.T.astype(np.float64)
    overlap = overlap.multiply(r_full).tocsr()  # only c in R(i, k1)
    half_size = np.asarray(r_half.sum(axis=1)).ravel().astype(np.float64)
    overlap.data = (overlap.data > (2 / 3) * half_size[overlap.indices]).astype(np.float64)
    overlap.eliminate_zeros()
    expanded = ((r_full.astype(np.float64) + overlap @ r_half.astype(np.float64)) > 0).tocsr()
    expanded.sort_indices()

    # Weights exp(-d(i, j)) on the expanded sets, d scaled by the row maximum.
    rows = np.repeat(np.arange(n), np.diff(expanded.indptr))
    cols = expanded.indices
    scaled = np.empty(len(rows))
    step = max(1, (1 << 21) // max(features.shape[1], 1))  # pairs per chunk: 2 x 16 MiB of gathered rows
    for start in range(0, len(rows), step):
        r, c = rows[start : start + step], cols[start : start + step]
        a, b = features[r], features[c]
        d = np.maximum((a * a).sum(1) + (b * b).sum(1) - 2 * (a * b).sum(1), 0.0)
        d[r == c] = 0.0
        scaled[start : start + step] = d / np.where(row_max[r] > 0, row_max[r], 1.0)
    weights = np.exp(-scaled)
    sums = np.bincount(rows, weights=weights, minlength=n)
    vectors = sp.csr_matrix((weights / sums[rows], (rows, cols)), shape=(n, n))
    if k2 > 1:
        expansion = sp.csr_matrix(
            (np.full(n * k2, 1.0 / k2), (np.repeat(np.arange(n), k2), nearest[:, :k2].ravel())), shape=(n, n)
        )
        vectors = (expansion @ vectors).tocsr()
    vectors.sort_indices()
    return vectors, nearest, row_max


def jaccard_rows(vectors: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
    """Dense Jaccard distances of ``rows`` to ``columns`` (default: all) from the encoding V."""
    n = vectors.shape[0]
    columns = np.arange(n) if columns is None else np.asarray(columns)
    by_column = vectors.tocsc()
    sub = vectors[rows].tocoo()
    # For every nonzero V(r, k), every nonzero V(j, k) of the same k adds min(V(r, k), V(j, k)) to (r, j).
    counts = np.diff(by_column.indptr)[sub.col]
    total = int(counts.sum())
    first = np.repeat(by_column.indptr[sub.col], counts)
    offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    at = first + offset
    target_row = np.repeat(sub.row, counts)
    minima = np.minimum(np.repeat(sub.data, counts), by_column.data[at])
    shared = np.bincount(target_row * n + by_column.indices[at], weights=minima, minlength=len(rows) * n)
    shared = shared.reshape(len(rows), n)[:, columns]
    return 1.0 - shared / (2.0 - shared)


def rerank_blocks(
    query: np.ndarray,
    gallery: np.ndarray,
    k1: int = 20,
    k2: int = 6,
    lam: float = 0.3,
    block: int = 64,
) -> Iterator[tuple[slice, np.ndarray]]:
    """Re-ranked query x gallery distances, ``block`` queries at a time (as :func:`distance_blocks`):
    ``(1 - lam) * jaccard + lam * scaled squared distance``, the encoding built on queries and gallery."""
    features = np.concatenate([query, gallery]).astype(np.float64)
    n_query = len(query)
    vectors, _, row_max = reciprocal_vectors(features, k1, k2)
    columns = np.arange(n_query, len(features))
    for start in range(0, n_query, block):
        rows = np.arange(start, min(start + block, n_query))
        original = squared_euclidean(features[rows], features[columns])
        original /= np.where(row_max[rows] > 0, row_max[rows], 1.0)[:, None]
        jaccard = jaccard_rows(vectors, rows, columns)
        yield slice(rows[0], rows[-1] + 1), (1 - lam) * jaccard + lam * original
