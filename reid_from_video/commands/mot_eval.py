"""``rfv mot-eval``: MOT metrics and tracklet noise against ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.noise.config import MotEvalConfig


def _mot_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "gt", type=Path, help="a MOTChallenge tree (e.g. MOT17/train), a sequence folder or a gt.txt"
    )
    parser.add_argument("results", type=Path, help="tracker results: a folder of <sequence>.txt, or one file")
    parser.add_argument(
        "--out", type=Path, help="folder for summary.json/.csv, q_histogram.json, histograms.png"
    )


@command(
    "mot-eval",
    help="MOT metrics (CLEAR, identity, HOTA) and tracklet noise (rFM, rSW) against ground truth",
    description="Score tracker results against MOTChallenge ground truth: MOTA, MOTP, IDF1, IDP, IDR, "
    "FP, FN, IDSW, Frag, MT/PT/ML (motmetrics), HOTA/DetA/AssA (TrackEval's definition), and the TMC paper's "
    "rate of fragmentation rFM and rate of switch rSW with their histograms. MOTChallenge preprocessing "
    "(pedestrians with consider flag 1 scored; tracker boxes matched to distractor classes 2, 7, 8, 12 "
    "removed) unless preprocess=false. q_histogram.json feeds `rfv simulate`.",
    config=MotEvalConfig,
    add_arguments=_mot_eval_arguments,
)
def _run_mot_eval(args: argparse.Namespace, config: MotEvalConfig) -> None:
    from reid_from_video.noise.mot_eval import format_table, run_mot_eval

    print(format_table(run_mot_eval(args.gt, args.results, args.out, config)))
