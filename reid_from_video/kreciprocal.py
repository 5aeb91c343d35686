"""k-reciprocal encoding and Jaccard distance (Zhong et al., CVPR 2017), from a sparse top-k neighbour graph.

The published re-ranking code holds several N x N dense matrices; here every step works on neighbour lists
and sparse rows with about k1 entries, in torch, so the same code runs chunked on the CPU and fast on a GPU,
and N can be in the tens of thousands. Given features x_1..x_N:

1. d(i, j) = squared Euclidean distance divided by the largest d(i, .) of row i (the published scaling);
2. N(i, k): the k + 1 nearest (i itself first); R(i, k) = {j in N(i, k): i in N(j, k)}, the k-reciprocal set;
3. R*(i) = R(i, k1), extended by R(c, round(k1 / 2)) of every c in it that shares more than 2/3 of that set
   with R(i, k1);
4. V(i, j) = exp(-d(i, j)) on R*(i), rows summing to 1; with k2 > 1, V(i) is replaced by the mean of V(j)
   over j in N(i, k2 - 1) (local query expansion);
5. Jaccard distance: 1 - sum_k min(V(i,k), V(j,k)) / sum_k max(V(i,k), V(j,k)), i.e. 1 - m / (2 - m) with
   m the sum of minima (rows sum to 1); 1 for pairs sharing no neighbour. Rows of it come from an inverted
   index (the rows holding each column), a block of rows at a time.

Re-ranking (:func:`rerank_blocks`) mixes it with the scaled original distance:
``(1 - lambda) * jaccard + lambda * d``. Clustering (:mod:`reid_from_video.labels.cluster`) takes
:func:`jaccard_pairs`, the pairs below 1, and keeps only the small distances.

Everything is float64 by default: float32 distances can swap near-tied neighbours and change the sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from reid_from_video.core.distances import squared_euclidean

# Elements gathered at a time (pairs of feature rows, inverted-index expansions): bounds the working memory.
_GATHER_BUDGET = 1 << 23


@dataclass(frozen=True)
class Encoding:
    """The k-reciprocal encoding V as sparse rows (COO sorted by row, then column) plus an inverted index.

    ``row_ptr[i]:row_ptr[i + 1]`` are the entries of row i; ``by_column`` lists the entries sorted by column
    and ``column_ptr`` delimits each column in it. ``nearest`` are the neighbour lists (self first) and
    ``row_max`` the largest squared distance of each row (the scale of d).
    """

    rows: torch.Tensor
    cols: torch.Tensor
    vals: torch.Tensor
    row_ptr: torch.Tensor
    by_column: torch.Tensor
    column_ptr: torch.Tensor
    nearest: torch.Tensor
    row_max: torch.Tensor

    @property
    def n(self) -> int:
        return len(self.row_max)

    @property
    def nnz(self) -> int:
        return len(self.vals)


def as_tensor(
    features: np.ndarray | torch.Tensor, device: str = "cpu", dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """Features as a 2-d tensor of ``dtype`` on ``device``."""
    tensor = torch.as_tensor(features).to(device=device, dtype=dtype)
    if tensor.ndim != 2 or len(tensor) == 0:
        raise ValueError(f"features must be a non-empty 2-d array, not of shape {tuple(tensor.shape)}")
    return tensor


def nearest_neighbours(
    features: torch.Tensor, k: int, block: int = 1024, keep: int | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, distances, row maxima): the ``keep`` (default ``k + 1``) nearest of every row by squared
    Euclidean distance (nearest first, ties by index) with their squared distances, and the largest squared
    distance of every row.

    The distance matrix is symmetric, so it is computed a ``block`` x ``block`` tile at a time over the
    upper triangle only, each tile serving its rows and (transposed) its columns: half the products of a
    row-by-row search. Every row keeps its running nearest, merged with each tile's. A distance is the
    same arithmetic as :func:`squared_euclidean` (``(|a|^2 + |b|^2) - 2 a.b``), in preallocated buffers.
    """
    n = len(features)
    k = min(max(k + 1, keep or 0), n)
    best = torch.full((n, k), float("inf"), dtype=features.dtype, device=features.device)
    best_index = torch.full((n, k), -1, dtype=torch.int64, device=features.device)
    row_max = torch.zeros(n, dtype=features.dtype, device=features.device)
    squared = (features * features).sum(1)
    products = torch.empty(block * block, dtype=features.dtype, device=features.device)
    sums = torch.empty(block * block, dtype=features.dtype, device=features.device)
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        for first in range(start, n, block):
            cols = slice(first, min(first + block, n))
            a, b = features[rows], features[cols]
            product = torch.mm(a, b.T, out=products[: len(a) * len(b)].view(len(a), len(b)))
            d = torch.add(
                squared[rows, None], squared[None, cols], out=sums[: len(a) * len(b)].view(len(a), len(b))
            )
            d.add_(product.mul_(-2.0)).clamp_(min=0.0)
            if first == start:
                d.fill_diagonal_(0.0)  # the exact self distance (rounding can leave a tiny positive)
            _merge_nearest(best, best_index, rows, d, first)
            torch.maximum(row_max[rows], d.max(dim=1).values, out=row_max[rows])
            if first != start:  # the tile's columns are rows too: the same distances, transposed
                _merge_nearest(best, best_index, cols, d.T, start)
                torch.maximum(row_max[cols], d.max(dim=0).values, out=row_max[cols])
    # Order every row's nearest by (distance, index): stable whatever order the merges left.
    by_index = torch.argsort(best_index, dim=1)
    best_index, best = best_index.gather(1, by_index), best.gather(1, by_index)
    order = torch.sort(best, dim=1, stable=True).indices
    return best_index.gather(1, order), best.gather(1, order), row_max


def _merge_nearest(
    best: torch.Tensor, best_index: torch.Tensor, rows: slice, d: torch.Tensor, first_column: int
) -> None:
    """Rows ``rows`` of the running nearest (``best`` distances, ``best_index`` columns) merged with the
    distances ``d`` of those rows to the columns from ``first_column`` on."""
    k = best.shape[1]
    values, columns = torch.topk(d, min(k, d.shape[1]), dim=1, largest=False, sorted=False)
    values = torch.cat([best[rows], values], dim=1)
    columns = torch.cat([best_index[rows], columns + first_column], dim=1)
    kept, at = torch.topk(values, k, dim=1, largest=False, sorted=False)
    best[rows], best_index[rows] = kept, columns.gather(1, at)


def _reciprocal_mask(nearest: torch.Tensor, k: int, block: int) -> torch.Tensor:
    """Boolean (N, k + 1): ``nearest[i, t]`` (one of the k + 1 nearest of i) has i among its own k + 1."""
    head = nearest[:, : k + 1]
    mask = torch.empty(head.shape, dtype=torch.bool, device=head.device)
    for start in range(0, len(head), block):
        ids = torch.arange(start, min(start + block, len(head)), device=head.device)
        mask[ids] = (head[head[ids]] == ids[:, None, None]).any(dim=-1)
    return mask


def _expanded_sets(
    nearest: torch.Tensor, k1: int, half: int, block: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of R*(i) for every i (step 3), sorted by row then column, no duplicates."""
    full, full_mask = nearest[:, : k1 + 1], _reciprocal_mask(nearest, k1, block)
    halves, half_mask = nearest[:, : half + 1], _reciprocal_mask(nearest, half, block)
    half_size = half_mask.sum(dim=1).to(torch.float64)
    all_rows, all_cols = [], []
    for start in range(0, len(nearest), block):
        ids = slice(start, min(start + block, len(nearest)))
        members = torch.where(full_mask[ids], full[ids], -1)  # R(i, k1), -1 = not a member
        candidates = full[ids]
        sets, in_set = halves[candidates], half_mask[candidates]  # R(c, k1/2) of every c: (B, k1+1, h+1)
        shared = ((sets[..., None] == members[:, None, None, :]).any(dim=-1) & in_set).sum(dim=-1)
        accepted = full_mask[ids] & (shared > (2 / 3) * half_size[candidates])
        extension = torch.where(accepted[..., None] & in_set, sets, -1).flatten(1)
        merged = torch.sort(torch.cat([members, extension], dim=1), dim=1).values
        keep = merged >= 0
        keep[:, 1:] &= merged[:, 1:] != merged[:, :-1]
        rows, slots = keep.nonzero(as_tuple=True)
        all_rows.append(rows + start)
        all_cols.append(merged[rows, slots])
    return torch.cat(all_rows), torch.cat(all_cols)


def _set_distances(
    features: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, wide: torch.Tensor, wide_d: torch.Tensor
) -> torch.Tensor:
    """Squared distances of the pairs (rows[p], cols[p]): looked up in the wider neighbour lists ``wide``
    (with their distances ``wide_d``, the same arithmetic as a fresh product) where the pair is there (about
    96% of R* pairs), the rest from the two feature rows."""
    out = torch.empty(len(rows), dtype=features.dtype, device=features.device)
    step = max(1, _GATHER_BUDGET // wide.shape[1])
    for start in range(0, len(rows), step):
        r, c = rows[start : start + step], cols[start : start + step]
        hit = wide[r] == c[:, None]
        found = hit.any(dim=1)
        part = (wide_d[r] * hit).sum(dim=1)
        miss = (~found).nonzero(as_tuple=True)[0]
        if len(miss):
            a, b = features[r[miss]], features[c[miss]]
            part[miss] = ((a * a).sum(1) + (b * b).sum(1) - 2 * (a * b).sum(1)).clip(min=0.0)
        out[start : start + step] = part
    out[rows == cols] = 0.0
    return out


def _coalesce(rows: torch.Tensor, cols: torch.Tensor, vals: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
    """Sum the values of repeated (row, col) keys; entries sorted by row then column."""
    keys, inverse = torch.unique(rows * n + cols, sorted=True, return_inverse=True)
    summed = torch.zeros(len(keys), dtype=vals.dtype, device=vals.device).index_add_(0, inverse, vals)
    return keys // n, keys % n, summed


def _pointers(keys: torch.Tensor, n: int) -> torch.Tensor:
    """CSR-style pointers of sorted ``keys`` in 0..n-1."""
    ptr = torch.zeros(n + 1, dtype=torch.int64, device=keys.device)
    ptr[1:] = torch.cumsum(torch.bincount(keys, minlength=n), dim=0)
    return ptr


def encode(features: torch.Tensor, k1: int = 20, k2: int = 6, block: int = 1024) -> Encoding:
    """The k-reciprocal encoding of ``features`` (a tensor on the device that should do the work)."""
    n = len(features)
    # A wider neighbour list than the sets need: the R* pairs' distances are mostly looked up in it.
    wide, wide_d, row_max = nearest_neighbours(features, max(k1, k2), block, keep=2 * (max(k1, k2) + 1))
    nearest = wide[:, : max(k1, k2) + 1]
    k1, half = min(k1, n - 1), min(int(np.around(k1 / 2)), n - 1)
    rows, cols = _expanded_sets(nearest, k1, half, block)
    scale = torch.where(row_max > 0, row_max, torch.ones_like(row_max))
    weights = torch.exp(-_set_distances(features, rows, cols, wide, wide_d) / scale[rows])
    sums = torch.zeros(n, dtype=weights.dtype, device=weights.device).index_add_(0, rows, weights)
    vals = weights / sums[rows]
    if k2 > 1:  # V(i) <- mean of V(j) over the k2 nearest j (i itself first)
        row_ptr = _pointers(rows, n)
        sources = nearest[:, :k2].reshape(-1)
        counts = row_ptr[sources + 1] - row_ptr[sources]
        targets = torch.arange(n, device=rows.device).repeat_interleave(k2).repeat_interleave(counts)
        at = _ranges(row_ptr[sources], counts)
        rows, cols, vals = _coalesce(targets, cols[at], vals[at] / k2, n)
    by_column = torch.sort(cols, stable=True).indices
    return Encoding(
        rows=rows,
        cols=cols,
        vals=vals,
        row_ptr=_pointers(rows, n),
        by_column=by_column,
        column_ptr=_pointers(cols[by_column], n),
        nearest=nearest,
        row_max=row_max,
    )


def _ranges(starts: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Concatenated ``arange(start, start + count)`` for every pair."""
    total = int(counts.sum())
    offsets = torch.arange(total, device=counts.device) - (
        torch.cumsum(counts, 0) - counts
    ).repeat_interleave(counts)
    return starts.repeat_interleave(counts) + offsets


def jaccard_block(encoding: Encoding, start: int, stop: int) -> torch.Tensor:
    """Dense Jaccard distances of rows ``start:stop`` to all N rows, shape (stop - start, N)."""
    return _jaccard(_shared_block(encoding, start, stop))


def jaccard_pairs(
    encoding: Encoding, start: int, stop: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(rows, cols, distances): the pairs of a row in ``start:stop`` and any row that share a neighbour, with
    their Jaccard distances, row by row. Every other pair is at exactly 1 (nothing shared), so these are
    all the distances below 1, without a pass over the N-wide rows for each."""
    shared = _shared_block(encoding, start, stop)
    rows, cols = torch.nonzero(shared, as_tuple=True)  # the sums of minima are >= 0
    return rows + start, cols, _jaccard(shared[rows, cols])


def _jaccard(shared: torch.Tensor) -> torch.Tensor:
    """1 - m / (2 - m) for sums of minima m (rows of V sum to 1)."""
    return (1.0 - shared / (2.0 - shared)).clip(min=0.0)  # rounding can leave -1e-16 for equal rows


def _shared_block(encoding: Encoding, start: int, stop: int) -> torch.Tensor:
    """sum_k min(V(r, k), V(j, k)) for the rows r in ``start:stop`` and all j, shape (stop - start, N).

    For every entry V(r, k) of the block and every entry V(j, k) of the same column k, min(V(r, k), V(j, k))
    is added to (r, j): the work is the sum over the block's entries of their column's length, done in
    chunks of bounded size.
    """
    n = encoding.n
    first, last = int(encoding.row_ptr[start]), int(encoding.row_ptr[stop])
    shared = torch.zeros((stop - start) * n, dtype=encoding.vals.dtype, device=encoding.vals.device)
    columns = encoding.cols[first:last]
    counts = encoding.column_ptr[columns + 1] - encoding.column_ptr[columns]
    ends = torch.cumsum(counts, 0).cpu()
    chunk_first = 0
    while chunk_first < last - first:
        # Entries [chunk_first, chunk_last) of the block expand to at most the budget (at least one entry).
        limit = (int(ends[chunk_first - 1]) if chunk_first else 0) + _GATHER_BUDGET
        chunk_last = max(chunk_first + 1, int(torch.searchsorted(ends, limit, right=True)))
        entries = slice(first + chunk_first, first + chunk_last)
        chunk_counts = counts[chunk_first:chunk_last]
        at = encoding.by_column[_ranges(encoding.column_ptr[encoding.cols[entries]], chunk_counts)]
        minima = torch.minimum(encoding.vals[entries].repeat_interleave(chunk_counts), encoding.vals[at])
        target = (encoding.rows[entries] - start).repeat_interleave(chunk_counts) * n + encoding.rows[at]
        shared.index_add_(0, target, minima)
        chunk_first = chunk_last
    return shared.view(stop - start, n)


def rerank_blocks(
    query: np.ndarray,
    gallery: np.ndarray,
    k1: int = 20,
    k2: int = 6,
    lam: float = 0.3,
    block: int = 64,
    device: str = "cpu",
) -> Iterator[tuple[slice, np.ndarray]]:
    """Re-ranked query x gallery distances, ``block`` queries at a time (as :func:`distance_blocks`):
    ``(1 - lam) * jaccard + lam * scaled squared distance``, the encoding built on queries and gallery."""
    features = as_tensor(np.concatenate([query, gallery]), device)
    n_query = len(query)
    encoding = encode(features, k1, k2)
    gallery_features = features[n_query:]
    scale = torch.where(encoding.row_max > 0, encoding.row_max, torch.ones_like(encoding.row_max))
    for start in range(0, n_query, block):
        stop = min(start + block, n_query)
        original = squared_euclidean(features[start:stop], gallery_features) / scale[start:stop, None]
        jaccard = jaccard_block(encoding, start, stop)[:, n_query:]
        yield slice(start, stop), ((1 - lam) * jaccard + lam * original).cpu().numpy()
