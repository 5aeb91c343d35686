"""Parity: `rfv mot-eval`'s CLEAR MOT against MOTChallenge's official evaluator, TrackEval, on the same files.

Both sides read the 7 MOT17 FRCNN train sequences (gt, seqinfo.ini) and a tracker's results (default: the
reference DeepSORT outputs of ../shared/data) and apply the MOTChallenge preprocessing. TrackEval runs its
whole pipeline (``MotChallenge2DBox`` + ``CLEAR``); ours is ``score_mot`` with the default
``clear=trackeval`` and, for comparison, ``clear=motmetrics``. Prints every CLEAR field per sequence and
combined, side by side, and the largest difference between ours and TrackEval's (goal: 0 on every count).

    python benchmarks/parity_clear_trackeval.py [--data ../shared/data] [--results DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import score_mot

SEQUENCES = [f"MOT17-{n:02d}-FRCNN" for n in (2, 4, 5, 9, 10, 11, 13)]
COUNTS = {  # our report's name -> TrackEval's
    "num_misses": "CLR_FN",
    "num_false_positives": "CLR_FP",
    "num_switches": "IDSW",
    "num_fragmentations": "Frag",
    "mostly_tracked": "MT",
    "partially_tracked": "PT",
    "mostly_lost": "ML",
}
RATIOS = {"mota": "MOTA", "motp": "MOTP", "recall": "CLR_Re", "precision": "CLR_Pr"}
LABELS = {
    **{k: v.replace("CLR_", "") for k, v in {**COUNTS, **RATIOS}.items()},
    "recall": "Re",
    "precision": "Pr",
}


def trackeval_clear(gt_root: Path, results: Path) -> dict[str, dict[str, float]]:
    """TrackEval's CLEAR per sequence and ``COMBINED``, its own reading and preprocessing."""
    import trackeval

    quiet = {"PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False}
    evaluator = trackeval.Evaluator(
        {**quiet, "USE_PARALLEL": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None}
    )
    with tempfile.TemporaryDirectory() as work:
        trackers = Path(work) / "trackers" / "tracker"  # TrackEval wants {TRACKERS_FOLDER}/{name}/{seq}.txt
        trackers.mkdir(parents=True)
        for seq in SEQUENCES:
            (trackers / f"{seq}.txt").symlink_to((results / f"{seq}.txt").resolve())
        dataset = trackeval.datasets.MotChallenge2DBox(
            {"GT_FOLDER": str(gt_root), "TRACKERS_FOLDER": str(trackers.parent),
             "TRACKERS_TO_EVAL": ["tracker"], "TRACKER_SUB_FOLDER": "", "SKIP_SPLIT_FOL": True,
             "SEQ_INFO": dict.fromkeys(SEQUENCES),
             "OUTPUT_FOLDER": work, "BENCHMARK": "MOT17", "PRINT_CONFIG": False}
        )  # fmt: skip
        output, messages = evaluator.evaluate([dataset], [trackeval.metrics.CLEAR({"PRINT_CONFIG": False})])
    if messages["MotChallenge2DBox"]["tracker"] != "Success":
        raise SystemExit(f"TrackEval failed: {messages}")
    by_seq = output["MotChallenge2DBox"]["tracker"]
    return {
        ("COMBINED" if seq == "COMBINED_SEQ" else seq): v["pedestrian"]["CLEAR"] for seq, v in by_seq.items()
    }


def ours(gt_root: Path, results: Path, clear: str) -> dict[str, dict[str, float]]:
    config = MotEvalConfig(seqs=SEQUENCES, hota=False, plots=False, clear=clear)
    report = score_mot(gt_root, results, config)[0].to_json()
    return {
        **{s: v["clear"] for s, v in report["sequences"].items()},
        "COMBINED": report["COMBINED"]["clear"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument(
        "--results", type=Path, help="a folder of <sequence>.txt (default: reference DeepSORT)"
    )
    args = parser.parse_args()
    gt_root = args.data / "mot17" / "train"
    results = args.results or args.data / "mot17" / "trackers" / "deepsort"
    official = trackeval_clear(gt_root, results)
    mine, motmetrics = ours(gt_root, results, "trackeval"), ours(gt_root, results, "motmetrics")
    names = [*COUNTS, *RATIOS]
    print(f"{results}: ours (clear=trackeval) / TrackEval / ours with clear=motmetrics")
    print(f"{'sequence':16s} " + " ".join(f"{LABELS[n]:>22s}" for n in names))
    largest = {"count": 0.0, "ratio": 0.0}
    for seq in [*SEQUENCES, "COMBINED"]:
        cells = []
        for name in names:
            theirs = float(official[seq][COUNTS.get(name) or RATIOS[name]])
            difference = abs(mine[seq][name] - theirs)
            kind = "count" if name in COUNTS else "ratio"
            largest[kind] = max(largest[kind], difference)
            fmt = "{:.0f}" if kind == "count" else "{:.4f}"
            cells.append("/".join(fmt.format(v) for v in (mine[seq][name], theirs, motmetrics[seq][name])))
        print(f"{seq:16s} " + " ".join(f"{c:>22s}" for c in cells))
    print(
        f"largest difference, ours against TrackEval: {largest['count']:g} on the counts, "
        f"{largest['ratio']:.2e} on the ratios"
    )


if __name__ == "__main__":
    main()
