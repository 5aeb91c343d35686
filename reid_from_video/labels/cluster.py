"""DBSCAN on a sparse distance graph: k-reciprocal Jaccard (default) or cosine, with the data-dependent eps.

Scaling with the data (``scale``, on by default). TMC's settings (k1 30, k2 6, rho 1.6e-3, min_samples 4)
are made for MARS-scale sets of about 10,000 sub-tracklets. On a small set they collapse: on PETS09 (one
camera, 58 sub-tracklets of 19 people, OSNet features) rho gives ``1.6e-3 * 1653`` = 3 pairs, so eps is the
mean of the 3 smallest distances (0.04) and DBSCAN, which needs ``min_samples - 1`` neighbours within eps
for a core point, finds 2 clusters holding 12 sub-tracklets; and k1 30 is half the set, so every pair shares
neighbours and the Jaccard distances flatten (no pair at distance 1). Two floors, binding only on small sets:

* ``k1 <= N // 5`` (and ``k2 <= k1``): the k-reciprocal encoding assumes k1 << N. It binds below N = 150
  for k1 30, so MARS-scale sets keep the paper's k1;
* eps averages at least ``N * (min_samples - 1)`` pairs: DBSCAN's core points need ``min_samples - 1``
  neighbours within eps, ``N * (min_samples - 1) / 2`` pairs for all N, and eps is the mean of the pairs it
  averages, so about half of them lie within it. It binds below N = 2 (min_samples - 1) / rho (3,750 with
  TMC's settings). On PETS09 that is 174 pairs (10.5%; the measured share of same-identity pairs, which
  rho stands for, is 4.5% there and 1.6e-3 on MARS).

``scale=false`` uses the configured values at any N.

The distance matrix is never held whole. Rows of it are computed a block at a time (on the GPU when there is
one; :class:`ListedRows`: for the Jaccard distance only the pairs that share a neighbour are listed, every
other pair being exactly 1, so the work follows the neighbour graph, not N x N) and only the entries DBSCAN
can use are kept: those within eps. With a fixed eps that is a plain
filter. With the data-dependent eps (the mean of the smallest ``rho`` share of all pairwise distances
(i < j, zeros left out), as in the MMT / TMC code) the blocks keep what lies below the running
``k``-th smallest pairwise distance seen so far; eps is at most the final k-th smallest, so every entry
within eps is kept, and the graph is pruned to eps at the end. Memory is a block of rows plus about
``2 * rho`` of the pairs.

DBSCAN then runs on the sparse graph (scikit-learn's, with ``metric="precomputed"``; the diagonal is stored
as explicit zeros so that every point counts itself, as with a dense matrix): the labels equal those of
DBSCAN on the dense matrix.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from reid_from_video.core.device import resolve_device
from reid_from_video.core.errors import SettingError
from reid_from_video.kreciprocal import as_tensor, encode, jaccard_pairs
from reid_from_video.labels.config import ClusterConfig

# Distances below this are rounding noise around an exact 0 (e.g. two tracklets with the same neighbours).
ROUNDING = 1e-12


@dataclass(frozen=True)
class Clustering:
    """Cluster labels (0..n_clusters-1, -1 for DBSCAN noise), the eps used, and what it cost."""

    labels: np.ndarray
    eps: float
    graph_entries: int
    seconds: float

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    @property
    def n_noise(self) -> int:
        return int((self.labels < 0).sum())


def scaled_k(config: ClusterConfig, n: int) -> tuple[int, int]:
    """(k1, k2) for ``n`` points: the configured ones, capped at ``n // 5`` and k1 when ``scale``."""
    if not config.scale:
        return config.k1, config.k2
    k1 = min(config.k1, max(n // 5, 1))
    return k1, min(config.k2, k1)


def min_eps_pairs(config: ClusterConfig, n: int) -> int:
    """The fewest pairs the data-dependent eps averages: ``n * (min_samples - 1)`` when ``scale``."""
    return n * (config.min_samples - 1) if config.scale else 0


@dataclass(frozen=True)
class Pairs:
    """A block's pairs (point indices) at a distance below a bound, each point's own distance an explicit 0
    and rounding noise around 0 the exact 0; with the counts, over the whole block, of the pairs (i, j),
    i < j, at a nonzero distance and of those left out at ``fill`` (a distance at least every listed one)."""

    rows: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor
    nonzero_upper: int
    unlisted_upper: int = 0
    fill: float | None = None


@dataclass(frozen=True)
class DenseRows:
    """The distances of the points ``start`` .. ``start + len(d)`` to all points, every one held."""

    start: int
    d: torch.Tensor

    def pairs(self, n: int, bound: float, inclusive: bool) -> Pairs:
        """The pairs below ``bound`` (at most ``bound`` when ``inclusive``)."""
        d = self.d  # cleaned in place: nothing else reads it
        own = torch.arange(self.start, self.start + len(d), device=d.device)
        d[own - self.start, own] = 0.0
        d[d < ROUNDING] = 0.0
        upper = torch.arange(n, device=d.device)[None, :] > own[:, None]
        rows, cols = torch.nonzero(d <= bound if inclusive else d < bound, as_tuple=True)
        return Pairs(rows + self.start, cols, d[rows, cols], int((upper & (d > 0)).sum()))


@dataclass(frozen=True)
class ListedRows:
    """The distances of the points ``start:stop`` to all points: the listed pairs ``(rows, cols, values)``
    (point indices), every other pair at ``fill``, which is at least every listed value. The k-reciprocal
    Jaccard distance is 1 for the many pairs that share no neighbour: those are counted, never listed."""

    start: int
    stop: int
    rows: torch.Tensor
    cols: torch.Tensor
    values: torch.Tensor
    fill: float

    def pairs(self, n: int, bound: float, inclusive: bool) -> Pairs:
        """The listed pairs below ``bound`` (at most ``bound`` when ``inclusive``); the unlisted ones are
        counted, and listed only when ``inclusive`` takes them in (a fixed eps at or above the fill: every
        pair is within it, and the graph needs them all). A pair at the fill never lies below a
        data-dependent threshold that it could matter to: see :func:`sparse_graph`."""
        if inclusive and self.fill <= bound:
            d = torch.full(
                (self.stop - self.start, n), self.fill, dtype=self.values.dtype, device=self.values.device
            )
            d[self.rows - self.start, self.cols] = self.values
            return DenseRows(self.start, d).pairs(n, bound, inclusive)
        off = self.rows != self.cols
        own = torch.arange(self.start, self.stop, device=self.rows.device)
        rows, cols = torch.cat([self.rows[off], own]), torch.cat([self.cols[off], own])
        values = torch.cat(
            [self.values[off], torch.zeros(len(own), dtype=self.values.dtype, device=own.device)]
        )
        values = torch.where(values < ROUNDING, torch.zeros_like(values), values)
        upper = cols > rows
        count = self.stop - self.start
        unlisted = count * (n - 1) - (self.start + self.stop - 1) * count // 2 - int(upper.sum())
        nonzero = int((upper & (values > 0)).sum()) + (unlisted if self.fill > 0 else 0)
        keep = values <= bound if inclusive else values < bound
        return Pairs(rows[keep], cols[keep], values[keep], nonzero, unlisted, self.fill)


DistanceRows = DenseRows | ListedRows


def distance_rows(features: np.ndarray | torch.Tensor, config: ClusterConfig) -> Iterator[DistanceRows]:
    """The distances of all points, ``config.block`` points at a time, on the configured device."""
    x = as_tensor(features, resolve_device(config.device))
    n = len(x)
    if config.distance == "jaccard":
        k1, k2 = scaled_k(config, n)
        encoding = encode(x, k1, k2, block=config.block)
        scratch = torch.zeros(min(config.block, n) * n, dtype=encoding.vals.dtype, device=x.device)
        for start in range(0, n, config.block):
            stop = min(start + config.block, n)
            yield ListedRows(start, stop, *jaccard_pairs(encoding, start, stop, scratch), fill=1.0)
    else:
        x = x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)
        for start in range(0, n, config.block):
            yield DenseRows(start, (1.0 - x[start : start + config.block] @ x.T).clip(min=0.0))


def sparse_graph(
    blocks: Iterable[DistanceRows],
    n: int,
    eps: float = 0.0,
    rho: float = 1.6e-3,
    min_pairs: int = 0,
) -> tuple[sp.csr_matrix, float]:
    """(graph, eps): the pairs within eps of the distances in ``blocks`` as a sparse matrix with an explicit
    zero diagonal; eps as given, or data-dependent when 0 (see the module docstring), averaging at least
    ``min_pairs`` pairs (as many as there are nonzero ones at most).

    For the data-dependent eps, ``threshold`` is the ``budget``-th smallest pairwise distance seen so far
    and only the distances strictly below it are held: values equal to it are common (every Jaccard distance
    of a pair sharing no neighbour is exactly 1) and are accounted for as copies of it, never stored; so are
    the pairs a block does not list (at its ``fill``), as long as the fill is below the threshold.
    """
    fixed = eps > 0
    # At most this many pairwise distances can enter the data-dependent eps (zeros only lower the count).
    budget = max(min(max(int(np.round(rho * n * (n - 1) / 2)), min_pairs), n * (n - 1) // 2), 1)
    threshold = float("inf")
    smallest = torch.empty(0, dtype=torch.float64)
    fill, fill_copies = float("inf"), 0  # the unlisted pairs below the threshold: all at one value
    nonzero_pairs = 0
    kept_rows, kept_cols, kept_vals = [], [], []
    for block in blocks:
        pairs = block.pairs(n, eps if fixed else threshold, inclusive=fixed)
        keep = torch.ones_like(pairs.values, dtype=torch.bool)  # all within the bound
        if not fixed:
            nonzero_pairs += pairs.nonzero_upper
            upper = (pairs.cols > pairs.rows) & (pairs.values > 0)
            smallest = torch.cat([smallest.to(pairs.values.device), pairs.values[upper]])
            if pairs.fill is not None and pairs.fill < threshold and pairs.unlisted_upper:
                fill, fill_copies = pairs.fill, fill_copies + pairs.unlisted_upper
            if len(smallest) >= budget:
                threshold = float(torch.kthvalue(smallest, budget).values)
                smallest, fill_copies = smallest[smallest < threshold], 0  # the fill is >= every value
            elif fill_copies and len(smallest) + fill_copies >= budget:
                threshold, fill_copies = fill, 0
                smallest = smallest[smallest < threshold]
            keep = pairs.values < threshold
        kept_rows.append(pairs.rows[keep].cpu().numpy())
        kept_cols.append(pairs.cols[keep].cpu().numpy())
        kept_vals.append(pairs.values[keep].cpu().numpy())
    rows, cols, vals = (np.concatenate(part) for part in (kept_rows, kept_cols, kept_vals))
    if not fixed:
        if fill_copies:  # the threshold was never reached: the unlisted pairs are among the smallest
            threshold = fill
        top = min(max(int(np.round(rho * nonzero_pairs)), min_pairs), nonzero_pairs)
        eps = _data_dependent_eps(smallest, threshold, top, n, rho)
        within = vals <= eps
        rows, cols, vals = rows[within], cols[within], vals[within]
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n)), eps


def _data_dependent_eps(smallest: torch.Tensor, threshold: float, top: int, n: int, rho: float) -> float:
    """Mean of the ``top`` smallest pairwise distances: the held ones (all below ``threshold``), topped up
    with copies of ``threshold`` (the ``budget``-th smallest, so there are enough of them)."""
    if top < 1:
        raise SettingError(
            f"{n} points give too few nonzero pairwise distances for the data-dependent eps with rho={rho}",
            ("eps", "rho"),
        )
    values = torch.sort(smallest).values[:top].double()
    topped_up = (top - len(values)) * threshold if top > len(values) else 0.0  # no 0 * inf
    eps = (float(values.sum()) + topped_up) / top
    if len(values) < top and eps >= threshold:
        # All of the smallest share one value: entries equal to it were not held, the graph would miss them.
        raise SettingError(
            f"{n} points give too few nonzero pairwise distances below {threshold} for the data-dependent "
            f"eps (the smallest {top} are all {threshold})",
            ("eps",),
        )
    return eps


def dbscan(graph: sp.csr_matrix, eps: float, min_samples: int) -> np.ndarray:
    """DBSCAN labels on a sparse precomputed distance graph (entries within eps, explicit zero diagonal)."""
    from sklearn.cluster import DBSCAN  # sklearn's import is slow: only when clustering

    return DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(graph)


def cluster(features: np.ndarray | torch.Tensor, config: ClusterConfig) -> Clustering:
    """DBSCAN of the rows of ``features`` under ``config``."""
    start = time.perf_counter()
    n = len(features)
    pairs = min_eps_pairs(config, n)
    graph, eps = sparse_graph(distance_rows(features, config), n, config.eps, config.rho, pairs)
    labels = dbscan(graph, eps, config.min_samples)
    return Clustering(labels.astype(np.int64), eps, graph.nnz, time.perf_counter() - start)
