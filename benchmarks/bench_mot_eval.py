"""Benchmark: `rfv mot-eval` against motmetrics' own `eval_motchallenge` app on the same input.

The 7 MOT17 FRCNN train sequences with the reference DeepSORT results. Both sides read the files and
compute CLEAR + identity metrics; ours also computes rFM / rSW (HOTA is off here: the app has none). Both
use the app's scoring semantics (ground truth with the consider flag set, no distractor removal:
``preprocess=false``). Prints both times (best of N), the ratio, and the largest difference between the
two sides' CLEAR / identity values, which must be 0 for counts and ~1e-15 for ratios.

    python benchmarks/bench_mot_eval.py [--data ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from reid_from_video.noise import motmetrics_compat
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import score_mot

SEQUENCES = [f"MOT17-{n:02d}-FRCNN" for n in (2, 4, 5, 9, 10, 11, 13)]


def run_app(gt_root: Path, results: Path):
    """The body of motmetrics.apps.eval_motchallenge.main, with its own functions, minus the printing."""
    import motmetrics as mm
    from motmetrics.apps import eval_motchallenge as app

    gtfiles = sorted(gt_root.glob("*/gt/gt.txt"))
    tsfiles = sorted(results.glob("*.txt"))
    gt = OrderedDict((f.parts[-3], mm.io.loadtxt(str(f), fmt="mot15-2D", min_confidence=1)) for f in gtfiles)
    ts = OrderedDict((f.stem, mm.io.loadtxt(str(f), fmt="mot15-2D")) for f in tsfiles)
    accs, names = app.compare_dataframes(gt, ts)
    host = mm.metrics.create()
    return host.compute_many(
        accs, names=names, metrics=mm.metrics.motchallenge_metrics, generate_overall=True
    )


def best_of(repeat: int, function):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    train, trackers = args.data / "mot17" / "train", args.data / "mot17" / "trackers" / "deepsort"
    if not train.is_dir():
        print(f"research data not found at {args.data}", file=sys.stderr)
        return 1
    motmetrics_compat.patch()  # the app calls np.asfarray, gone in NumPy 2
    with tempfile.TemporaryDirectory() as tmp:
        gt_root = Path(tmp) / "gt"  # exactly the 7 sequences for both sides (the app globs every gt)
        gt_root.mkdir()
        for seq in SEQUENCES:
            (gt_root / seq).symlink_to((train / seq).resolve())
        config = MotEvalConfig(preprocess=False, hota=False, plots=False, clear="motmetrics")
        ours_s, (result, _) = best_of(args.repeat, lambda: score_mot(gt_root, trackers, config))
        report = result.to_json()
        app_s, summary = best_of(args.repeat, lambda: run_app(gt_root, trackers))

    worst = 0.0
    for name in [*SEQUENCES, "OVERALL"]:
        ours = report["COMBINED" if name == "OVERALL" else "sequences"]
        ours = ours["clear"] if name == "OVERALL" else ours[name]["clear"]
        for key, theirs in summary.loc[name].items():
            value = 1.0 - ours[key] if key == "motp" else ours[key]  # we report MOTP as mean IoU
            worst = max(worst, abs(value - float(theirs)))
    noise = report["COMBINED"]["noise"]
    print(f"sequences: {len(SEQUENCES)} MOT17 FRCNN, DeepSORT results")
    print(f"motmetrics eval_motchallenge (CLEAR + identity):        {app_s:7.3f} s")
    print(f"rfv mot-eval (CLEAR + identity + rFM/rSW):              {ours_s:7.3f} s")
    print(f"speed-up: {app_s / ours_s:.2f}x   largest value difference: {worst:.2e}")
    clear = report["COMBINED"]["clear"]
    print(f"combined: MOTA {clear['mota']:.4f}  IDF1 {clear['idf1']:.4f}", end="")
    print(f"  rFM {noise['rfm']:.3f}  rSW {noise['rsw']:.3f}")
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
