"""Benchmark: `rfv evaluate`'s scoring on the real MARS test structure, against the reference implementations.

Features are synthetic (512-d, one random centre per identity plus noise), laid on the real MARS test
tracklets and protocol (../shared/data/mars/info: 1980 queries x 12180 gallery tracklets). Three figures:

1. ours on all 1980 queries: seconds and peak RSS increase, plain distances and k-reciprocal re-ranking;
2. ranking against the line-by-line port of the official ``compute_AP.m`` (the tests' reference), on the
   first ``--peer-queries`` queries: time ratio and the largest AP difference;
3. re-ranking against the published dense algorithm (the tests' reference, N x N arrays) on a subset of
   ``--rerank-n`` tracklets: time and peak memory ratios, and the largest distance difference.

    python benchmarks/bench_evaluate.py [--data ../shared/data] [--peer-queries 100] [--rerank-n 1500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_cluster import PeakRSS  # noqa: E402  (benchmarks/ is on the path when run as a script)

from reid_from_video.core.distances import pairwise_distances
from reid_from_video.evaluate.config import EvaluateConfig, RerankConfig
from reid_from_video.evaluate.evaluation import evaluate_features
from reid_from_video.io.mars import load_mars
from reid_from_video.io.protocol import Protocol, mars_protocol
from reid_from_video.kreciprocal import rerank_blocks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_evaluate import dense_rerank, reference_scores  # noqa: E402  (the tests' independent references)


def measured(run: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB) of one call; memory is the peak resident set over the one before the
    call (bench_cluster.PeakRSS: torch's allocations are not seen by tracemalloc)."""
    peak = PeakRSS()
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start, peak.now()


def features_for(protocol: Protocol, dim: int = 512, noise: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    _, identity = np.unique(protocol.ids, return_inverse=True)
    centres = rng.normal(size=(identity.max() + 1, dim))
    return (centres[identity] + noise * rng.normal(size=(len(identity), dim))).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--peer-queries", type=int, default=100)
    parser.add_argument("--rerank-n", type=int, default=1500)
    args = parser.parse_args()
    protocol = mars_protocol(load_mars(args.data / "mars" / "info"))
    features = features_for(protocol)

    # The small comparisons first: the resident set of a process that held MARS-size arrays stays high.
    # Re-ranking against the published dense algorithm on a subset small enough for its N x N arrays.
    m = args.rerank_n
    n_query = m // 5
    rows = np.random.default_rng(1).choice(len(features), m, replace=False)
    query, gallery = features[rows[:n_query]], features[rows[n_query:]]
    ours_d, ours_s, ours_mb = measured(
        lambda: np.concatenate([d for _, d in rerank_blocks(query, gallery, 20, 6, 0.3)])
    )
    dense_d, dense_s, dense_mb = measured(lambda: dense_rerank(query, gallery, 20, 6, 0.3))
    print(
        f"re-ranking, {m} tracklets: ours {ours_s:.2f} s / {ours_mb:.0f} MiB, published dense algorithm "
        f"{dense_s:.2f} s / {dense_mb:.0f} MiB ({dense_s / ours_s:.1f}x time, {dense_mb / ours_mb:.1f}x "
        f"memory); largest difference {np.abs(ours_d - dense_d).max():.1e}"
    )
    # Ranking against the official compute_AP.m port, on the same distances of the first queries.
    n = args.peer_queries
    subset = Protocol("peer", protocol.ids, protocol.cameras, protocol.query[:n], protocol.gallery, (0,))
    euclidean = EvaluateConfig(metric="euclidean")
    ours, ours_s, _ = measured(lambda: evaluate_features(features, subset, euclidean))
    q, g = features[subset.query].astype(np.float64), features[subset.gallery].astype(np.float64)
    distances = pairwise_distances(q, g, "euclidean")
    ids, cams, qs = subset.ids, subset.cameras, subset.query
    (peer_ap, _), peer_s, _ = measured(
        lambda: reference_scores(distances, ids[qs], cams[qs], ids, cams, (0,), "trapezoid")
    )
    print(
        f"ranking, {n} queries: ours {ours_s:.2f} s, official compute_AP.m port {peer_s:.2f} s "
        f"({peer_s / ours_s:.0f}x); largest AP difference {np.nanmax(np.abs(ours.ap - peer_ap)):.1e}"
    )

    print(f"MARS test structure: {len(protocol.query)} queries x {len(protocol.gallery)} gallery, 512-d")
    for name, config in (
        ("plain (cosine)", EvaluateConfig()),
        ("re-ranked", EvaluateConfig(rerank=RerankConfig(enabled=True))),
    ):
        result, seconds, peak = measured(lambda c=config: evaluate_features(features, protocol, c))
        print(
            f"  ours, {name}: {seconds:.1f} s, peak {peak:.0f} MiB; mAP {100 * result.mean_ap:.1f}, "
            f"rank-1 {100 * result.rank(1):.1f}, {result.valid_queries} valid queries"
        )

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
