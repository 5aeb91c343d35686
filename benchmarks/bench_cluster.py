"""Benchmark: k-reciprocal Jaccard distance and DBSCAN clustering (labels.cluster) against the dense one.

Features are synthetic but clustered like re-id features: 2048-d, identities of 10-20 samples each,
Gaussian around an identity centre that shares a component with ~20 look-alike identities, L2-normalised,
float32, seeded. Every measurement runs in a fresh process (multiprocessing, spawn) so that its peak memory
is its own: the increase of the resident set (RSS) over a baseline taken after the imports, the features
and a small warm-up run (torch's CPU allocations are not seen by tracemalloc).

A. N = ``--n`` (5000) on the CPU: ours (encode + all Jaccard rows; and ``cluster()`` end to end with the
   data-dependent eps and DBSCAN) against the dense published algorithm (tests/reference_kreciprocal.py:
   ``dense_jaccard`` + ``dense_eps`` + scikit-learn's DBSCAN on the N x N matrix): time and peak memory
   ratios; equal Jaccard matrices, eps and labels. The reference is O(N^3): it first runs at 1000 and 2000
   to extrapolate its time at ``--reference-n`` (default ``--n``), then at ``--reference-n``.
   Goal: ours >= 5x faster.
B. N = ``--large-n`` (20000) on the CPU: ``cluster()`` end to end, time (goal < 15 s on 2 cores, 2 threads),
   peak memory (goal < 2 GB) and the time / memory of each step; then again with the neighbour search's
   products in float64 throughout (``float32_search=False``, unless ``--skip-float64``): its time, and
   whether eps and the labels are the same.
C. The same on the GPU when there is one (goal < 1 s after a warm-up; peak torch.cuda memory).

    python benchmarks/bench_cluster.py [--n 5000] [--large-n 20000] [--dim 2048] [--reference-n 5000]
                                       [--skip-reference] [--skip-float64] [--device auto|cpu|cuda:1]
                                       [--threads 2]
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"
GOAL_SPEEDUP, GOAL_LARGE_MIB, GOAL_LARGE_S, GOAL_GPU_S = 5.0, 2048.0, 15.0, 1.0
# Steps whose time and memory the breakdown reports: (module, name). The dotted modules are those of the
# package; a name that is not there (refactored away) is left out of the breakdown.
KRECIPROCAL_STEPS = ("nearest_neighbours", "_expanded_sets", "_set_distances", "_coalesce")
CLUSTER_STEPS = ("as_tensor", "encode", "jaccard_pairs", "sparse_graph", "dbscan")


def identities(n: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(features float32 (n, dim), identity of every row): 10-20 samples per identity, look-alike groups."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(10, 21, size=n // 10 + 1)
    ids = np.repeat(np.arange(len(sizes)), sizes)[:n]
    count = int(ids.max()) + 1
    groups = rng.standard_normal((count // 20 + 1, dim), dtype=np.float32)
    centres = 0.6 * groups[np.arange(count) // 20] + 0.8 * rng.standard_normal((count, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    # Noise as long as the centre: same-identity cosine about 0.5, look-alikes about 0.2, others about 0.
    features = centres[ids] + rng.standard_normal((n, dim), dtype=np.float32) / np.float32(np.sqrt(dim))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    return features.astype(np.float32), ids


# --- memory of this process ------------------------------------------------------------------------------


def _status_mib(key: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def _reset_peak() -> bool:
    """Reset the kernel's peak RSS (VmHWM) to the current RSS; False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak resident set over a baseline: VmHWM reset at the baseline (Linux), else ru_maxrss."""

    def __init__(self) -> None:
        gc.collect()
        self.resettable = _reset_peak()
        self.base = _status_mib("VmRSS") if self.resettable else self._maxrss()
        self.seen = self.base

    @staticmethod
    def _maxrss() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def since_reset(self) -> float:
        """Peak since the last reset (MiB over the baseline), also folded into the overall peak."""
        high = _status_mib("VmHWM") if self.resettable else self._maxrss()
        self.seen = max(self.seen, high)
        return high - self.base

    def now(self) -> float:
        """Peak since the baseline (MiB over it)."""
        self.since_reset()
        return self.seen - self.base


class Breakdown:
    """Seconds and peak RSS of the wrapped steps, summed (time) or maxed (memory) over their calls.

    A step's memory is the largest RSS over the baseline while its own code ran (not that of the wrapped
    steps it calls): VmHWM is read and reset at the start and end of every step.
    """

    def __init__(self, peak: PeakRSS, sync: Callable[[], None]) -> None:
        self.peak, self.sync = peak, sync
        self.seconds: dict[str, float] = {}
        self.mib: dict[str, float] = {}
        self.running: list[str] = []

    def _boundary(self) -> None:
        high = self.peak.since_reset()
        if self.running:
            self.mib[self.running[-1]] = max(self.mib.get(self.running[-1], 0.0), high)
        if self.peak.resettable:
            _reset_peak()

    def wrap(self, module: Any, name: str) -> None:
        if not hasattr(module, name):  # refactored away: left out of the breakdown
            return
        original = getattr(module, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.sync()
            self._boundary()
            self.running.append(name)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.sync()
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                self._boundary()
                self.running.pop()

        setattr(module, name, timed)

    def rows(self, total: float) -> list[tuple[str, float, float | None]]:
        """(step, seconds, peak MiB or None), the nested steps' time taken out of their callers'."""
        s = self.seconds
        known = self.peak.resettable

        def row(label: str, name: str, seconds: float | None = None) -> tuple[str, float, float | None]:
            time_s = s.get(name, 0.0) if seconds is None else seconds
            return label, time_s, self.mib.get(name) if known else None

        in_encode = sum(s.get(step, 0.0) for step in KRECIPROCAL_STEPS)
        in_graph = sum(s.get(step, 0.0) for step in ("as_tensor", "encode", "jaccard_pairs"))
        rows = [
            row("as_tensor (float64 copy)", "as_tensor"),
            row("nearest_neighbours", "nearest_neighbours"),
            row("_expanded_sets", "_expanded_sets"),
            row("_set_distances", "_set_distances"),
            row("_coalesce (query expansion)", "_coalesce"),
            row("encode, the rest (weights, query expansion)", "encode", s.get("encode", 0.0) - in_encode),
            row("jaccard_pairs (all rows)", "jaccard_pairs"),
            row("sparse_graph bookkeeping", "sparse_graph", s.get("sparse_graph", 0.0) - in_graph),
            row("dbscan", "dbscan"),
        ]
        rows.append(("other", total - sum(r[1] for r in rows), None))
        return rows


# --- the cases, each run in a fresh process --------------------------------------------------------------


def _setup(threads: int) -> dict[str, Any]:
    import torch

    if threads:
        torch.set_num_threads(threads)
    return {"threads": torch.get_num_threads(), "load": os.getloadavg()[0]}


def ours_jaccard(n: int, dim: int, threads: int, out: str) -> dict[str, Any]:
    """encode + every Jaccard row (512 at a time, as cluster() does); the rows are written to ``out``."""
    from reid_from_video.kreciprocal import as_tensor, encode, jaccard_block

    info = _setup(threads)
    features, _ = identities(n, dim)
    small = as_tensor(identities(300, dim, seed=1)[0])
    jaccard_block(encode(small, 30, 6, 512), 0, 300)  # warm-up
    peak = PeakRSS()
    start = time.perf_counter()
    encoding = encode(as_tensor(features), 30, 6, 512)
    encode_s = time.perf_counter() - start
    rows_s = 0.0
    with open(out, "wb") as file:
        for first in range(0, n, 512):
            start = time.perf_counter()
            block = jaccard_block(encoding, first, min(first + 512, n))
            rows_s += time.perf_counter() - start
            file.write(block.numpy().tobytes())  # not timed; the file is not in the RSS
            del block
    return {**info, "encode_s": encode_s, "rows_s": rows_s, "mib": peak.now(), "nnz": encoding.nnz}


def ours_cluster(
    n: int, dim: int, threads: int, device: str, scale: bool = True, float32_search: bool = True
) -> dict[str, Any]:
    """cluster() end to end (data-dependent eps, DBSCAN), then again with the step breakdown. ``scale``:
    ClusterConfig.scale (false: the published settings at any N, as the dense reference has them).
    ``float32_search`` false: the neighbour search's products in float64 throughout (the search before
    the float32 candidates, the reference for their labels)."""
    import torch

    from reid_from_video import kreciprocal
    from reid_from_video.labels import cluster as clustering

    if not float32_search:
        search = functools.partial(kreciprocal.nearest_neighbours, float32_search=False)
        kreciprocal.nearest_neighbours = search
    info = _setup(threads)
    features, ids = identities(n, dim)
    config = clustering.ClusterConfig(device=device, scale=scale)
    cuda = device.startswith("cuda")
    # Warm-up: the real size on a GPU (kernels, cuBLAS), a small one on the CPU (lazy imports, thread pool).
    clustering.cluster(features if cuda else identities(300, dim, seed=1)[0], config)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    peak = PeakRSS()
    breakdown = Breakdown(peak, sync)
    if not cuda:  # on the CPU the wrappers cost a clock read each: measure with them
        for name in KRECIPROCAL_STEPS:
            breakdown.wrap(kreciprocal, name)
        for name in CLUSTER_STEPS:
            breakdown.wrap(clustering, name)
    start = time.perf_counter()
    result = clustering.cluster(features, config)
    sync()
    seconds = time.perf_counter() - start
    report = {
        **info,
        "seconds": seconds,
        "mib": peak.now(),
        "labels": result.labels,
        "eps": result.eps,
        "graph_entries": result.graph_entries,
        "ids": ids,
    }
    if cuda:  # the GPU's own figures, then a second run with the (synchronising) breakdown
        report["gpu_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
        report["gpu_name"] = torch.cuda.get_device_name(device)
        for name in KRECIPROCAL_STEPS:
            breakdown.wrap(kreciprocal, name)
        for name in CLUSTER_STEPS:
            breakdown.wrap(clustering, name)
        start = time.perf_counter()
        clustering.cluster(features, config)
        report["breakdown_total"] = time.perf_counter() - start
    else:
        report["breakdown_total"] = seconds
    report["breakdown"] = breakdown.rows(report["breakdown_total"])
    return report


def reference(n: int, dim: int, threads: int, out: str, k1: int = 30, k2: int = 6, rho: float = 1.6e-3):
    """The dense published algorithm: dense_jaccard, dense_eps and DBSCAN on the N x N matrix."""
    sys.path.insert(0, str(TESTS))
    from reference_kreciprocal import dense_eps, dense_jaccard
    from sklearn.cluster import DBSCAN

    info = _setup(threads)
    features, _ = identities(n, dim)
    warm, _ = dense_jaccard(identities(300, dim, seed=1)[0], k1, k2)
    DBSCAN(eps=0.5, min_samples=4, metric="precomputed").fit_predict(np.maximum(warm, 0))
    del warm
    peak = PeakRSS()
    start = time.perf_counter()
    jaccard, _ = dense_jaccard(features, k1, k2)
    jaccard_s, jaccard_mib = time.perf_counter() - start, peak.now()
    # As the tests do: rounding noise around an exact 0 is 0 (two rows with the same neighbours).
    jaccard[jaccard < 1e-12] = 0
    np.fill_diagonal(jaccard, 0)
    eps = dense_eps(jaccard, rho)
    labels = DBSCAN(eps=eps, min_samples=4, metric="precomputed").fit_predict(jaccard)
    seconds = time.perf_counter() - start
    report = {**info, "jaccard_s": jaccard_s, "jaccard_mib": jaccard_mib, "seconds": seconds}
    report.update(mib=peak.now(), eps=eps, labels=labels)
    np.save(out, jaccard)
    return report


def isolated(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``function(*args)`` in a fresh process."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


# --- the report ------------------------------------------------------------------------------------------


def quality(labels: np.ndarray, ids: np.ndarray) -> str:
    from sklearn.metrics import adjusted_rand_score

    clustered = labels >= 0
    ari = adjusted_rand_score(ids[clustered], labels[clustered]) if clustered.any() else float("nan")
    return (
        f"{labels.max() + 1} clusters ({len(np.unique(ids))} identities), {int((~clustered).sum())} noise, "
        f"ARI of the clustered points {ari:.3f}"
    )


def print_breakdown(rows: list[tuple[str, float, float | None]], total: float, memory: bool = True) -> None:
    for name, seconds, mib in rows:
        figure = f"  peak {mib:6.0f} MiB" if memory and mib is not None else ""
        print(f"    {name:44s} {seconds:7.2f} s {100 * seconds / total:5.1f} %{figure}")


def compare(n: int, args: argparse.Namespace, tmp: str, with_reference: bool) -> dict[str, Any]:
    """Case A at one size: prints a table row; returns the figures."""
    rows_file, reference_file = os.path.join(tmp, f"ours{n}.bin"), os.path.join(tmp, f"ref{n}.npy")
    jac = isolated(ours_jaccard, n, args.dim, args.threads, rows_file)
    clu = isolated(ours_cluster, n, args.dim, args.threads, "cpu", False)  # the reference has no floors
    ours_s = jac["encode_s"] + jac["rows_s"]
    line = f"{n:6d} | {ours_s:7.2f} s {jac['mib']:6.0f} | {clu['seconds']:7.2f} s {clu['mib']:6.0f} | "
    figures = {"n": n, "ours": clu, "jaccard": jac}
    if not with_reference:
        print(line + "(reference not run at this size)")
    else:
        ref = isolated(reference, n, args.dim, args.threads, reference_file)
        ours_matrix = np.fromfile(rows_file, dtype=np.float64).reshape(n, n)
        difference = float(np.abs(ours_matrix - np.load(reference_file)).max())
        del ours_matrix
        os.remove(reference_file)
        same_eps = abs(clu["eps"] - ref["eps"]) <= 1e-9
        same_labels = np.array_equal(clu["labels"], ref["labels"])
        figures.update(reference=ref, speedup=ref["seconds"] / clu["seconds"], equal=same_eps and same_labels)
        print(
            line + f"{ref['jaccard_s']:7.1f} s {ref['jaccard_mib']:6.0f} | {ref['seconds']:7.1f} s "
            f"{ref['mib']:6.0f} | {ref['jaccard_s'] / ours_s:5.1f}x {ref['jaccard_mib'] / jac['mib']:5.1f}x "
            "| "
            f"{figures['speedup']:5.1f}x {ref['mib'] / clu['mib']:5.1f}x | {difference:8.1e} "
            f"{'same' if same_eps else 'DIFF':>5} {'same' if same_labels else 'DIFF':>6}"
        )
        if not figures["equal"]:
            print(f"{'':9s}MISMATCH: eps {clu['eps']!r} against {ref['eps']!r}, same labels: {same_labels}")
    os.remove(rows_file)
    print(
        f"{'':9s}eps {clu['eps']:.6f}; {quality(clu['labels'], clu['ids'])}; R* + query expansion "
        f"{jac['nnz'] / n:.0f} entries/row; torch threads {clu['threads']}, load {clu['load']:.1f}"
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="case A size (against the dense reference)")
    parser.add_argument("--large-n", type=int, default=20000, help="cases B and C size (0: skip them)")
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument(
        "--reference-n", type=int, default=0, help="largest size the dense reference runs at (default: --n)"
    )
    parser.add_argument("--skip-reference", action="store_true", help="ours only in case A")
    parser.add_argument(
        "--skip-float64", action="store_true", help="case B without the float64 neighbour search's run"
    )
    parser.add_argument(
        "--device", default="auto", help="case C: auto (cuda when there is one), cuda:1, ... or cpu (skip it)"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = parser.parse_args()
    import torch

    reference_n = args.reference_n or args.n
    if args.threads:  # the reference's BLAS too (the spawned processes read these when importing numpy)
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(args.threads)
    if os.getloadavg()[0] > 0.5 and not args.threads:
        print(
            "note: other processes use the CPUs; torch's threads spin-wait for busy cores, so --threads "
            "(e.g. CPUs minus the load) gives steadier figures"
        )
    print(
        f"{args.dim}-d features, identities of 10-20 samples; ClusterConfig defaults (k1=30, k2=6, "
        f"rho=1.6e-3, min_samples=4, block=512)\ntorch {torch.__version__}, "
        f"{args.threads or torch.get_num_threads()} "
        f"threads, {os.cpu_count()} CPUs, load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(other processes share the CPUs)"
    )
    how = (
        "VmHWM reset via /proc/self/clear_refs at the baseline, minus VmRSS there"
        if _reset_peak()
        else "ru_maxrss increase: /proc/self/clear_refs refused, so peaks below the setup's own are missed"
    )
    print(
        "memory: peak RSS increase of a fresh process over its baseline after imports, features and a "
        f"warm-up\n({how})"
    )

    print("\nA. CPU, ours against the dense reference (tests/reference_kreciprocal.py + sklearn DBSCAN)")
    print(
        "Jaccard: encode + all rows (ours) against dense_jaccard; clustering: cluster() against "
        "dense_jaccard + dense_eps + DBSCAN;\nratios: the reference's figure over ours; max |dJ|, eps, "
        "labels: ours against the reference"
    )
    groups = (
        "ours: Jaccard",
        "ours: cluster()",
        "ref: Jaccard",
        "ref: clustering",
        "Jaccard x",
        "clustering x",
    )
    print(" | ".join([f"{'':6s}", *(f"{g:^16s}" for g in groups[:4]), *(f"{g:^13s}" for g in groups[4:])]))
    print(
        " | ".join([f"{'N':>6s}", *[f"{'time':>9s} {'MiB':>6s}"] * 4, *[f"{'time':>6s} {'mem':>6s}"] * 2])
        + f" | {'max |dJ|':>8s} {'eps':>5s} {'labels':>6s}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        timings = []
        if not args.skip_reference:
            for n in sorted({size for size in (1000, 2000) if size < reference_n} | {reference_n} - {args.n}):
                timings.append(compare(n, args, tmp, with_reference=True))
        small = [t for t in timings if t["n"] < reference_n]
        if len(small) >= 2:
            (n1, t1), (n2, t2) = ((t["n"], t["reference"]["seconds"]) for t in small[-2:])
            power = np.log(t2 / t1) / np.log(n2 / n1)
            guess = t2 * (args.n / n2) ** power
            print(f"{'':9s}the reference grows as N^{power:.1f}: about {guess:.0f} s at N={args.n}")
        against = not args.skip_reference and reference_n == args.n
        main_case = compare(args.n, args, tmp, with_reference=against)
    if "speedup" in main_case:
        verdict = "met" if main_case["speedup"] >= GOAL_SPEEDUP and main_case["equal"] else "MISSED"
        goal = f"cluster() >= {GOAL_SPEEDUP:.0f}x faster than the reference, equal results"
        print(f"goal at N={args.n}: {goal}: {verdict}")

    if args.large_n:
        print(f"\nB. CPU, cluster() at N={args.large_n}")
        large = isolated(ours_cluster, args.large_n, args.dim, args.threads, "cpu")
        verdict = "met" if large["mib"] < GOAL_LARGE_MIB else "MISSED"
        fast = "met" if large["seconds"] < GOAL_LARGE_S else "MISSED"
        print(
            f"  {large['seconds']:.1f} s (goal < {GOAL_LARGE_S:.0f} s with 2 threads: {fast}), "
            f"peak {large['mib']:.0f} MiB (goal < {GOAL_LARGE_MIB:.0f} MiB: {verdict}); "
            f"eps {large['eps']:.4f}, {large['graph_entries']} graph entries\n  "
            f"{quality(large['labels'], large['ids'])}; torch threads {large['threads']}, "
            f"load {large['load']:.1f}"
        )
        print("  breakdown (peak: the largest RSS over the baseline while the step's own code ran):")
        print_breakdown(large["breakdown"], large["seconds"])
        if not args.skip_float64:
            exact = isolated(ours_cluster, args.large_n, args.dim, args.threads, "cpu", True, False)
            same = np.array_equal(exact["labels"], large["labels"]) and exact["eps"] == large["eps"]
            print(
                f"  the float64 neighbour search (float32_search=False): {exact['seconds']:.1f} s "
                f"({exact['seconds'] / large['seconds']:.2f}x the float32 candidates' time), eps "
                f"{exact['eps']!r} against {large['eps']!r}, {exact['graph_entries']} graph entries; "
                f"{'the same labels' if same else 'LABELS DIFFER'}"
            )

        print(f"\nC. GPU, cluster() at N={args.large_n}")
        device = args.device if args.device != "auto" else "cuda"
        if not torch.cuda.is_available():
            print("  no GPU here")
        elif device == "cpu":
            print("  skipped (--device cpu)")
        else:
            gpu = isolated(ours_cluster, args.large_n, args.dim, args.threads, device)
            verdict = "met" if gpu["seconds"] < GOAL_GPU_S else "MISSED"
            print(
                f"  {gpu['gpu_name']}: {gpu['seconds']:.2f} s after a warm-up (goal < {GOAL_GPU_S:.0f} s: "
                f"{verdict}), {large['seconds'] / gpu['seconds']:.0f}x the CPU; peak GPU memory "
                f"{gpu['gpu_mib']:.0f} MiB (torch.cuda.max_memory_allocated), host RSS {gpu['mib']:.0f} MiB; "
                f"same labels as the CPU: {np.array_equal(gpu['labels'], large['labels'])}"
            )
            print("  breakdown (a second run, synchronised around every step):")
            print_breakdown(gpu["breakdown"], gpu["breakdown_total"], memory=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
