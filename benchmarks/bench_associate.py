"""Benchmark: linking N tracklets into identities (``rfv associate``'s linking, features given) against
SciPy's average-linkage clustering of the same features (``scipy.cluster.hierarchy``, no constraints), in
the same run. Issue 20's goal: 10,000 tracklets in under 30 s on the 2-core CPU.

The tracklets are simulated: ``N / 8`` people, each with a 512-d prototype, seen as 8 tracklets in 8 random
cameras at random times (a tracklet = prototype + noise, unit length); so about one tracklet in eight of
one camera overlaps another in time. Prints both times, the ratio, and the share of tracklets whose
identity holds only their person (purity) for each side.

    python benchmarks/bench_associate.py [--tracklets 10000] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from reid_from_video.associate.linking import Spans, link, link_threshold


def simulated(n: int, seed: int = 0) -> tuple[np.ndarray, Spans, np.ndarray]:
    rng = np.random.default_rng(seed)
    people = n // 8
    person = np.repeat(np.arange(people), 8)[:n]
    prototypes = rng.normal(size=(people, 512))
    features = prototypes[person] + 0.6 * rng.normal(size=(n, 512))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    first = rng.integers(0, 100_000, n)
    spans = Spans(rng.integers(0, 8, n), first, first + rng.integers(20, 300, n))
    return features, spans, person


def purity(identity: np.ndarray, person: np.ndarray) -> float:
    """Share of tracklets in an identity whose most frequent person is theirs."""
    right = 0
    for k in np.unique(identity):
        members = person[identity == k]
        right += np.bincount(members).max()
    return right / len(person)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracklets", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    features, spans, person = simulated(args.tracklets)
    with threadpool_limits(args.threads):
        start = time.perf_counter()
        threshold, pairs = link_threshold(features, spans, 0.1)
        ours = link(features, spans, threshold, neighbours=20)
        ours_s = time.perf_counter() - start

        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist

        start = time.perf_counter()
        tree = linkage(pdist(features, "cosine"), method="average")
        theirs = fcluster(tree, threshold, criterion="distance")
        theirs_s = time.perf_counter() - start
    people = len(np.unique(person))
    print(f"{args.tracklets} tracklets ({people} people), threshold {threshold:.3f} from {pairs} pairs")
    for name, seconds, identity in (
        ("ours (constrained average linkage)", ours_s, ours),
        ("SciPy average linkage (no constraints)", theirs_s, theirs),
    ):
        found = len(np.unique(identity))
        print(f"{name:40s} {seconds:6.2f} s, {found} identities, purity {purity(identity, person):.3f}")
    print(f"ratio: {theirs_s / ours_s:.1f}x; goal under 30 s: {'yes' if ours_s < 30 else 'no'}")


if __name__ == "__main__":
    main()
