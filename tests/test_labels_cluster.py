"""labels.cluster and the k-reciprocal encoding behind it: equal to the dense published algorithm."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from reference_kreciprocal import dense_eps, dense_jaccard
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from reid_from_video.core.errors import ConfigError
from reid_from_video.kreciprocal import as_tensor, encode, jaccard_block, jaccard_pairs, nearest_neighbours
from reid_from_video.labels.cluster import cluster, distance_rows, sparse_graph
from reid_from_video.labels.config import ClusterConfig


def clustered(n: int, identities: int, dim: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, identities, n)
    return rng.normal(size=(identities, dim))[ids] + noise * rng.normal(size=(n, dim)), ids


@pytest.mark.parametrize(("k1", "k2", "block"), [(30, 6, 1024), (12, 1, 7), (20, 3, 64)])
def test_sparse_jaccard_equals_dense_reference(k1, k2, block):
    feats, _ = clustered(180, 25, 32, 0.8, seed=k1)
    encoding = encode(as_tensor(feats), k1, k2, block=block)
    ours = torch.cat([jaccard_block(encoding, s, min(s + 50, 180)) for s in range(0, 180, 50)]).numpy()
    reference, _ = dense_jaccard(feats, k1, k2)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


@pytest.mark.parametrize(("n", "block", "keep"), [(300, 64, 31), (257, 1024, 62), (100, 7, 100)])
def test_nearest_neighbours_equal_a_plain_full_search(n, block, keep):
    """The tiled, symmetric search against numpy's full distance matrix, row by row: the same neighbours in
    the same order (distance, then index), the same distances and row maxima."""
    feats, _ = clustered(n, 20, 48, 0.6, seed=n)
    indices, distances, row_max = nearest_neighbours(as_tensor(feats), keep - 1, block=block)
    full = (feats**2).sum(1)[:, None] + (feats**2).sum(1)[None, :] - 2 * feats @ feats.T
    full = np.maximum(full, 0)
    np.fill_diagonal(full, 0)
    expected = np.lexsort((np.broadcast_to(np.arange(n), full.shape), full), axis=1)[:, :keep]
    np.testing.assert_array_equal(indices.numpy(), expected)
    np.testing.assert_allclose(
        distances.numpy(), np.take_along_axis(full, expected, 1), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(row_max.numpy(), full.max(1), rtol=1e-12)


def test_jaccard_pairs_are_the_distances_below_one():
    feats, _ = clustered(200, 25, 32, 0.8, seed=4)
    encoding = encode(as_tensor(feats), 8, 3, block=64)
    dense = jaccard_block(encoding, 30, 90).numpy()
    rows, cols, values = (t.numpy() for t in jaccard_pairs(encoding, 30, 90))
    listed = np.zeros_like(dense, dtype=bool)
    listed[rows - 30, cols] = True
    np.testing.assert_array_equal(dense[rows - 30, cols], values)
    assert (dense[~listed] == 1.0).all() and (values < 1.0).all()
    assert 0.05 < listed.mean() < 0.5  # with k1 = 8 of 200, most pairs share no neighbour


def test_a_fixed_eps_of_one_takes_every_jaccard_pair():
    feats, _ = clustered(90, 9, 16, 0.5, seed=6)
    config = ClusterConfig(distance="jaccard", k1=10, k2=3, eps=1.0, block=32, device="cpu")
    graph, _ = sparse_graph(distance_rows(feats, config), len(feats), 1.0)
    assert graph.nnz == 90 * 90


@pytest.mark.parametrize(("distance", "rho"), [("jaccard", 0.02), ("cosine", 0.02), ("jaccard", 0.9)])
def test_data_dependent_eps_and_dbscan_equal_dense(distance, rho):
    """rho 0.9 reaches into the 16% of pairs sharing no neighbour (Jaccard exactly 1): counted, not held."""
    feats, _ = clustered(240, 30, 24, 0.7, seed=5)
    config = ClusterConfig(distance=distance, k1=20, k2=6, rho=rho, min_samples=3, block=37, device="cpu")
    if distance == "jaccard":
        dense, _ = dense_jaccard(feats, 20, 6)
    else:
        unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
        dense = np.maximum(1 - unit @ unit.T, 0)
    # Two rows with the same neighbours are at 0 +- 1e-16: both sides count that as the exact 0.
    dense[dense < 1e-12] = 0
    np.fill_diagonal(dense, 0)
    eps = dense_eps(dense, rho)
    graph, ours_eps = sparse_graph(distance_rows(feats, config), len(feats), 0.0, rho)
    assert ours_eps == pytest.approx(eps, abs=1e-9)
    # The graph holds exactly the pairs within eps (plus the diagonal), far fewer than N x N.
    assert graph.nnz == int((dense <= eps).sum())
    expected = DBSCAN(eps=eps, min_samples=3, metric="precomputed").fit_predict(dense)
    result = cluster(feats, config)
    np.testing.assert_array_equal(result.labels, expected)
    if rho < 0.1:
        assert graph.nnz < 0.1 * dense.size
        assert result.n_clusters == expected.max() + 1 >= 10


def test_fixed_eps_keeps_the_pairs_within_it():
    feats, _ = clustered(120, 12, 16, 0.5, seed=2)
    config = ClusterConfig(distance="cosine", eps=0.3, block=16, device="cpu")
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    dense = np.maximum(1 - unit @ unit.T, 0)
    np.fill_diagonal(dense, 0)
    graph, eps = sparse_graph(distance_rows(feats, config), len(feats), 0.3)
    assert eps == 0.3
    np.testing.assert_allclose(graph.toarray()[dense <= 0.3], dense[dense <= 0.3], atol=1e-12)
    assert graph.nnz == int((dense <= 0.3).sum())


@pytest.mark.parametrize("distance", ["jaccard", "cosine"])
def test_clustering_recovers_identities_and_marks_outliers(distance):
    rng = np.random.default_rng(9)
    ids = np.repeat(np.arange(40), 10)
    feats = rng.normal(size=(40, 64))[ids] + 0.35 * rng.normal(size=(400, 64))
    outliers = 6.0 * rng.normal(size=(5, 64))
    # The policy's eps averages the smallest rho share of all pairs: rho about twice the share of
    # same-identity pairs (2.3% here; MARS's 1.6e-3 is that share for its ~20 tracklets per identity).
    config = ClusterConfig(distance=distance, rho=0.04, device="cpu")
    result = cluster(np.concatenate([feats, outliers]), config)
    assert adjusted_rand_score(ids, result.labels[:400]) > 0.95
    # Far-away points are noise under cosine; the Jaccard distance ranks neighbours, so an outlier whose
    # nearest are one identity's members can join it.
    assert (result.labels[400:] == -1).sum() >= (5 if distance == "cosine" else 4)
    assert 38 <= result.n_clusters <= 40


def test_too_few_points_for_the_data_dependent_eps():
    with pytest.raises(ConfigError, match="too few nonzero pairwise distances"):
        cluster(np.eye(5), ClusterConfig(distance="cosine", device="cpu"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("distance", "euclid", "distance must be"), ("rho", 1.5, "rho"), ("eps", -1.0, "eps"), ("k1", 0, "k1")],
)
def test_config_checks(field, value, message):
    with pytest.raises(ValueError, match=message):
        ClusterConfig(**{field: value})


def _float64_products_only(monkeypatch) -> None:
    """The neighbour search with float64 products throughout (as before its float32 candidates)."""
    from reid_from_video import kreciprocal

    search = functools.partial(kreciprocal.nearest_neighbours, float32_search=False)
    monkeypatch.setattr(kreciprocal, "nearest_neighbours", search)


def test_the_float32_candidates_give_the_float64_lists_and_labels(monkeypatch):
    """The products run in float32 to choose candidates, which are scored and certified in float64: the
    neighbour lists, distances, row maxima and cluster labels of the float64 search."""
    from reid_from_video import kreciprocal

    feats, _ = clustered(1200, 90, 128, 0.6, seed=7)
    x = as_tensor(feats)
    tiled = []
    original = kreciprocal._tiled_search
    monkeypatch.setattr(kreciprocal, "_tiled_search", lambda f, *a: tiled.append(f.dtype) or original(f, *a))
    fast = nearest_neighbours(x, 30, block=256)
    exact = nearest_neighbours(x, 30, block=256, float32_search=False)
    assert tiled == [torch.float32, torch.float64]
    np.testing.assert_array_equal(fast[0].numpy(), exact[0].numpy())
    np.testing.assert_allclose(fast[1].numpy(), exact[1].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast[2].numpy(), exact[2].numpy(), rtol=1e-12)
    config = ClusterConfig(k1=20, k2=6, rho=1.6e-3, min_samples=4, block=256, device="cpu")
    fast_result = cluster(feats, config)
    _float64_products_only(monkeypatch)
    exact_result = cluster(feats, config)
    np.testing.assert_array_equal(fast_result.labels, exact_result.labels)
    assert fast_result.eps == exact_result.eps and fast_result.n_clusters >= 50  # a real clustering


def test_rows_the_float32_bound_cannot_certify_are_searched_again_in_float64(monkeypatch):
    """80 copies of one point: each copy's nearest are copies at distance 0, tied with more copies past its
    candidates, so no float32 bound separates them: those rows are searched again against all, in float64,
    and the rest are not."""
    from reid_from_video import kreciprocal

    feats, _ = clustered(600, 40, 64, 0.6, seed=3)
    feats[:80] = feats[0]
    searched = []
    original = kreciprocal.squared_euclidean
    monkeypatch.setattr(
        kreciprocal, "squared_euclidean", lambda a, *r: searched.append(len(a)) or original(a, *r)
    )
    ids, d, row_max = nearest_neighbours(as_tensor(feats), 20, block=128)
    assert 80 <= sum(searched) < 100
    assert (ids[:80] < 80).all() and (d[:80] < 1e-9).all()  # 0 to float64 rounding
    exact = nearest_neighbours(as_tensor(feats), 20, block=128, float32_search=False)
    # Rows near the copies have them tied at one distance: any of them is a right answer, the distances
    # are the float64 search's.
    np.testing.assert_allclose(d.numpy(), exact[1].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(row_max.numpy(), exact[2].numpy(), rtol=1e-12)


def test_sampled_and_gathered_pair_products_agree():
    """The CPU's sampled product and the gathering path used off the CPU give the same a.b of every pair."""
    from reid_from_video.kreciprocal import _gathered_products, _pointers, _sampled_products

    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.normal(size=(300, 40)))
    rows = torch.as_tensor(np.sort(rng.integers(0, 300, 2000)))
    cols = torch.as_tensor(rng.integers(0, 300, 2000))
    keys = torch.unique(rows * 300 + cols)  # sorted by row, then column, no duplicates
    rows, cols = keys // 300, keys % 300
    sampled = _sampled_products(x, _pointers(rows, 300), cols)
    np.testing.assert_allclose(sampled.numpy(), _gathered_products(x, rows, cols).numpy(), rtol=1e-12)
    np.testing.assert_allclose(sampled.numpy(), (x[rows] * x[cols]).sum(1).numpy(), rtol=1e-12)


def test_the_float32_products_run_at_full_precision_and_restore_the_callers_setting():
    """A caller that allowed TF32 / bf16 products does not loosen the error bound the search relies on."""
    from reid_from_video.kreciprocal import _ieee_float32_products

    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    try:
        with _ieee_float32_products():
            assert torch.get_float32_matmul_precision() == "highest"
        assert torch.get_float32_matmul_precision() == "medium"
    finally:
        torch.set_float32_matmul_precision(before)


def test_jaccard_pairs_through_a_reused_scratch_buffer_are_the_same_and_leave_it_zeroed():
    feats, _ = clustered(300, 30, 32, 0.8, seed=8)
    encoding = encode(as_tensor(feats), 10, 3, block=64)
    scratch = torch.zeros(64 * 300, dtype=torch.float64)
    for start in range(0, 300, 64):
        stop = min(start + 64, 300)
        fresh = jaccard_pairs(encoding, start, stop)
        reused = jaccard_pairs(encoding, start, stop, scratch)
        for a, b in zip(fresh, reused, strict=True):
            assert torch.equal(a, b)
        assert len(fresh[0]) > 0 and not scratch.any()
