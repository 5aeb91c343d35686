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

Everything is float64 by default: float32 distances can swap near-tied neighbours and change the sets. Only
the CPU neighbour search's all-pairs products run in float32, to choose candidates that are then scored and
certified in float64 (:func:`nearest_neighbours`): the same lists, faster (bench_cluster.py, case B).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from reid_from_video.core.distances import squared_euclidean

# Elements gathered at a time (pairs of feature rows, inverted-index expansions): bounds the working memory.
_GATHER_BUDGET = 1 << 23
# The float32 neighbour search's candidates beyond the needed neighbours, and its farthest per row: enough
# that the float32 error bound (about 5e-4 of a squared distance of unit 2048-d features) rarely reaches
# past them, which would send the row to a float64 search.
CANDIDATE_MARGIN = 16
FAR_CANDIDATES = 4
FLOAT32_UNIT = 2.0**-24  # unit roundoff


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
    features: torch.Tensor, k: int, block: int = 1024, float32_search: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(indices, distances, row maxima): the ``k + 1`` nearest of every row (itself first) by squared
    Euclidean distance (nearest first, ties by index) with their squared distances, and the largest squared
    distance of every row.

    The distance matrix is symmetric, so it is computed a ``block`` x ``block`` tile at a time over the
    upper triangle only (:func:`_tiled_search`). For float64 features on the CPU (``float32_search``) the
    tiles' products run in float32 (faster than float64 there: benchmarks/bench_cluster.py case B times
    both) and only choose candidates: the ``k + 1 + CANDIDATE_MARGIN`` nearest and ``FAR_CANDIDATES``
    farthest of every row. Those are scored again in float64 from the feature rows, and a row's result is
    certified by the float32 error bound (no column outside its candidates can come within the bound of its
    last neighbour's distance or its maximum); a row that is not is searched again in float64 against all.
    So the lists and maxima are those of a float64 search (to float64 rounding), and so are the labels made
    from them. Off the CPU the tiles run in the features' own precision, as before (a GPU's float64 path;
    not measured on one).
    """
    n = len(features)
    k = min(k + 1, n)
    width = k + CANDIDATE_MARGIN
    coarse = float32_search and features.dtype == torch.float64 and features.device.type == "cpu"
    if not coarse or width >= n:
        (near, near_ids), (far, _) = _tiled_search(features, k, 1, block)
        indices, distances = _smallest(near, near_ids, k)
        return indices, distances, far[:, 0]
    with _ieee_float32_products():
        (near32, near_ids), (far32, far_ids) = _tiled_search(features.float(), width, FAR_CANDIDATES, block)
    squared = (features * features).sum(1)
    # Error bound of a float32 (|a|^2 + |b|^2) - 2 a.b of the rounded D-vectors, for every row's pairs.
    bound = 2 * (features.shape[1] + 4) * FLOAT32_UNIT * (squared + squared.max())
    near_ids, far_ids = torch.sort(near_ids, dim=1).values, torch.sort(far_ids, dim=1).values
    indices, distances = _smallest(_row_distances(features, squared, near_ids), near_ids, k)
    row_max = _row_distances(features, squared, far_ids).max(dim=1).values
    # Every column outside the candidates has a float32 distance >= the nearest list's last and <= the
    # farthest list's last: within the bound of those, a float64 distance could cross the result.
    sure = distances[:, -1] < near32.max(dim=1).values.double() - bound
    sure &= row_max > far32.min(dim=1).values.double() + bound
    unsure = (~sure).nonzero(as_tuple=True)[0]
    every = torch.arange(n, device=features.device)
    for first in range(0, len(unsure), block):
        rows = unsure[first : first + block]
        d = squared_euclidean(features[rows], features, squared)
        d[torch.arange(len(rows)), rows] = 0.0
        indices[rows], distances[rows] = _smallest(d, every.expand_as(d), k)
        row_max[rows] = d.max(dim=1).values
    return indices, distances, row_max


def _tiled_search(
    features: torch.Tensor, near_width: int, far_width: int, block: int
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """((distances, columns) of the ``near_width`` nearest, (distances, columns) of the ``far_width``
    farthest) of every row, each list unordered, from the squared distances computed a ``block`` x
    ``block`` tile at a time over the upper triangle, each tile serving its rows and (transposed) its
    columns. A distance is the same arithmetic as :func:`squared_euclidean` (``(|a|^2 + |b|^2) - 2
    a.b``), in preallocated buffers. A column left out of a row's nearest list is at least as far as all
    of that list, one left out of its farthest at most as far as all of that one."""
    n = len(features)
    near = _empty_list(n, min(near_width, n), float("inf"), features)
    far = _empty_list(n, min(far_width, n), -float("inf"), features)
    squared = (features * features).sum(1)
    products = torch.empty(block * block, dtype=features.dtype, device=features.device)
    sums = torch.empty(block * block, dtype=features.dtype, device=features.device)
    for start in range(0, n, block):
        stop = min(start + block, n)
        for first in range(start, n, block):
            last = min(first + block, n)
            size, shape = (stop - start) * (last - first), (stop - start, last - first)
            product = torch.mm(features[start:stop], features[first:last].T, out=products[:size].view(shape))
            d = torch.add(squared[start:stop, None], squared[None, first:last], out=sums[:size].view(shape))
            d.add_(product.mul_(-2.0)).clamp_(min=0.0)
            if first == start:
                d.fill_diagonal_(0.0)  # the exact self distance (rounding can leave a tiny positive)
            for row_0, column_0, tile in ((start, first, d), (first, start, d.T)):
                _merge(*near, row_0, tile, column_0, largest=False)
                _merge(*far, row_0, tile, column_0, largest=True)
                if first == start:
                    break  # a diagonal tile's transpose is itself
    return near, far


def _empty_list(n: int, width: int, fill: float, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A running list of ``width`` (distance, column) per row: distances ``fill``, columns -1."""
    values = torch.full((n, width), fill, dtype=like.dtype, device=like.device)
    return values, torch.full((n, width), -1, dtype=torch.int64, device=like.device)


def _merge(
    values: torch.Tensor,
    columns: torch.Tensor,
    first_row: int,
    d: torch.Tensor,
    first_column: int,
    largest: bool,
) -> None:
    """A running list (``values`` at ``columns``: the smallest, or with ``largest`` the largest, seen so far)
    merged with the tile ``d`` of rows ``first_row``.. and columns ``first_column``.. . Only the rows with a
    distance beyond their list's edge are touched: after a row's first tiles, few are."""
    width = values.shape[1]
    current = values[first_row : first_row + len(d)]
    edge = current.min(dim=1).values if largest else current.max(dim=1).values
    entering = (d > edge[:, None]) if largest else (d < edge[:, None])
    counts = entering.sum(dim=1)
    most = int(counts.max())
    if most == 0:
        return
    touched = counts.nonzero(as_tuple=True)[0]
    new, at = torch.topk(d[touched], min(most, width), dim=1, largest=largest, sorted=False)
    rows = touched + first_row
    merged = torch.cat([current[touched], new], dim=1)
    merged_columns = torch.cat([columns[rows], at + first_column], dim=1)
    kept, slots = torch.topk(merged, width, dim=1, largest=largest, sorted=False)
    values[rows], columns[rows] = kept, merged_columns.gather(1, slots)


def _smallest(d: torch.Tensor, ids: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, distances): the ``k`` smallest of every row of ``d`` (whose columns are ``ids``), ordered by
    (distance, id) whatever order they came in."""
    values, part = torch.topk(d, k, dim=1, largest=False, sorted=False)
    part = ids.gather(1, part)
    by_index = torch.argsort(part, dim=1)  # then a stable sort by distance: ties in id order
    part, values = part.gather(1, by_index), values.gather(1, by_index)
    order = torch.sort(values, dim=1, stable=True).indices
    return part.gather(1, order), values.gather(1, order)


def _row_distances(features: torch.Tensor, squared: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Squared distances (n, c) of every row i to the rows ``ids[i]`` (ascending in every row)."""
    n, c = ids.shape
    row_ptr = torch.arange(0, n * c + 1, c, device=ids.device)
    return _pair_distances(features, squared, row_ptr, ids.reshape(-1)).view(n, c)


def _pair_distances(
    features: torch.Tensor, squared: torch.Tensor, row_ptr: torch.Tensor, cols: torch.Tensor
) -> torch.Tensor:
    """Squared distances of the pairs (i, ``cols[p]``) for p in ``row_ptr[i]:row_ptr[i + 1]`` (CSR: the
    columns ascending within a row), in the features' precision and the arithmetic of
    :func:`squared_euclidean`; a row's distance to itself is 0."""
    rows = torch.repeat_interleave(torch.arange(len(features), device=cols.device), row_ptr.diff())
    if features.device.type == "cpu":
        products = _sampled_products(features, row_ptr, cols)
    else:
        products = _gathered_products(features, rows, cols)
    d = (squared[rows] + squared[cols] - 2 * products).clip(min=0.0)
    d[rows == cols] = 0.0
    return d


def _sampled_products(features: torch.Tensor, row_ptr: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """The products a.b of the CSR pairs by a sampled matrix product: it reads the feature rows in place
    (no gathered copies of them), faster than :func:`_gathered_products` on the CPU."""
    n = len(features)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        pattern = torch.sparse_csr_tensor(
            row_ptr, cols, torch.zeros(len(cols), dtype=features.dtype), size=(n, n), check_invariants=False
        )
        return torch.sparse.sampled_addmm(pattern, features, features.T, beta=0.0).values()


def _gathered_products(features: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """The products a.b of the pairs (rows[p], cols[p]) from gathered copies of the two rows, a bounded
    number of elements at a time (the path off the CPU, where memory bandwidth makes gathering cheap)."""
    out = torch.empty(len(rows), dtype=features.dtype, device=features.device)
    step = max(1, _GATHER_BUDGET // features.shape[1])
    for start in range(0, len(rows), step):
        pairs = slice(start, start + step)
        out[pairs] = (features[rows[pairs]] * features[cols[pairs]]).sum(dim=1)
    return out


@contextmanager
def _ieee_float32_products() -> Iterator[None]:
    """float32 matrix products in full float32 precision for the block (no TF32 / bf16 shortcuts a caller
    may have allowed), as the error bound assumes."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(before)


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


def _set_distances(features: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Squared distances of the R* pairs (rows[p], cols[p]), sorted by row then column."""
    squared = (features * features).sum(1)
    return _pair_distances(features, squared, _pointers(rows, len(features)), cols)


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
    nearest, _, row_max = nearest_neighbours(features, max(k1, k2), block)
    k1, half = min(k1, n - 1), min(int(np.around(k1 / 2)), n - 1)
    rows, cols = _expanded_sets(nearest, k1, half, block)
    scale = torch.where(row_max > 0, row_max, torch.ones_like(row_max))
    weights = torch.exp(-_set_distances(features, rows, cols) / scale[rows])
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
    encoding: Encoding, start: int, stop: int, scratch: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(rows, cols, distances): the pairs of a row in ``start:stop`` and any row that share a neighbour, with
    their Jaccard distances, row by row. Every other pair is at exactly 1 (nothing shared), so these are
    all the distances below 1, without a pass over the N-wide rows for each.

    ``scratch``: a zeroed buffer of at least ``(stop - start) * N`` elements of the encoding's dtype and
    device, for a caller that goes through the blocks one after another: it is left zeroed (only the
    entries the block touched are cleared), which spares allocating and clearing a block-by-N array for
    every block (a third of this function's time at N = 20000)."""
    shared = _shared_block(encoding, start, stop, scratch)
    rows, cols = torch.nonzero(shared, as_tuple=True)  # the sums of minima are > 0 where touched
    values = shared[rows, cols]
    if scratch is not None:
        shared[rows, cols] = 0.0
    return rows + start, cols, _jaccard(values)


def _jaccard(shared: torch.Tensor) -> torch.Tensor:
    """1 - m / (2 - m) for sums of minima m (rows of V sum to 1)."""
    return (1.0 - shared / (2.0 - shared)).clip(min=0.0)  # rounding can leave -1e-16 for equal rows


def _shared_block(encoding: Encoding, start: int, stop: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """sum_k min(V(r, k), V(j, k)) for the rows r in ``start:stop`` and all j, shape (stop - start, N), in
    the front of ``out`` (zeroed) when given, else in a new array.

    For every entry V(r, k) of the block and every entry V(j, k) of the same column k, min(V(r, k), V(j, k))
    is added to (r, j): the work is the sum over the block's entries of their column's length, done in
    chunks of bounded size.
    """
    n = encoding.n
    first, last = int(encoding.row_ptr[start]), int(encoding.row_ptr[stop])
    size = (stop - start) * n
    if out is None:
        shared = torch.zeros(size, dtype=encoding.vals.dtype, device=encoding.vals.device)
    else:
        shared = out[:size]
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
