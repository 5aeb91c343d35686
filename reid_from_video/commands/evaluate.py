"""``rfv evaluate``: CMC and mAP of a re-ID model under the MARS protocol or on labelled tracklets."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.evaluate.config import EvaluateConfig


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        type=Path,
        help="a MARS root (its test split, official protocol; or a MARS-layout export of `rfv synth`) or a "
        "tracklet store whose index has gt_id",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=Path, help="a re-ID model: ONNX (.onnx) or TorchScript (.pt, .ts)")
    source.add_argument(
        "--features", type=Path, help="a .npy of features: one row per tracklet, or per frame (averaged here)"
    )
    parser.add_argument("--out", type=Path, help="folder for evaluate.json, cmc.png and config.yaml")


@command(
    "evaluate",
    help="CMC (rank 1/5/10/20) and mAP of a re-ID model: MARS protocol, or any labelled tracklets",
    description="Embed the frames of every test tracklet with the model (or read features), average them "
    "per tracklet, rank the gallery for every query by cosine or euclidean distance (optionally k-reciprocal "
    "re-ranking) and score CMC and mAP as the official MARS code does: same identity in the same camera and "
    "junk images (person 0) are junk, distractors (person -1) wrong matches. On a tracklet store, one query "
    "per (identity, camera) of every identity seen in two or more cameras, the gallery all tracklets.",
    config=EvaluateConfig,
    add_arguments=_evaluate_arguments,
)
def _run_evaluate(args: argparse.Namespace, config: EvaluateConfig) -> None:
    from reid_from_video.evaluate.evaluation import run_evaluate

    print(run_evaluate(args.data, args.out, config, model=args.model, features=args.features).report())
