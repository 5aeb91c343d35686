"""``rfv label``: training labels from a tracklet store (TAUDL's SSTT or TMC) with a label-quality report."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.labels.config import LabelConfig


def _label_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", type=Path, help="a tracklet store (rfv track, rfv simulate)")
    parser.add_argument("--out", type=Path, required=True, help="folder for labels.csv and the report")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--features", type=Path, help="tmc: a .npy of frame features, one row per index row (index order)"
    )
    source.add_argument(
        "--model",
        help="tmc: a re-ID model file (ONNX, TorchScript) embedding every crop, 'network' (the network of "
        "the model.* keys, as rfv train starts from it, e.g. model.init=osnet.onnx), or 'histogram' (colour "
        "histograms, no model)",
    )
    parser.add_argument(
        "--gt",
        type=Path,
        help="MOT ground truth folder (one sequence per camera): match the store's boxes "
        "to it for the label-quality report (a simulated store already has gt ids)",
    )


@command(
    "label",
    help="turn tracklets into training labels: TAUDL's SSTT sampling or TMC's isolation + association",
    description="method=sstt: per camera, sample the tracklets alive every P seconds that are far apart in "
    "the image, one label each (per-camera label spaces; TAUDL section 3.1). method=tmc: split tracklets at "
    "identity switches (DBSCAN on each tracklet's frame features) and associate the pieces across the whole "
    "store (DBSCAN on the k-reciprocal Jaccard distance with the data-dependent eps; TMC sections 3.2, 4.3). "
    "With ground truth (gt ids in the store, or --gt) the report gives rSW before and after isolation, the "
    "noise ratio, purity, NMI, ARI and, for SSTT, the per-camera duplication rate against P.",
    config=LabelConfig,
    add_arguments=_label_arguments,
)
def _run_label(args: argparse.Namespace, config: LabelConfig) -> None:
    if config.method == "tmc" and args.features is None and args.model is None:
        raise SystemExit("rfv label: method=tmc needs appearance features: --features F.npy or --model M")
    from reid_from_video.labels.run import format_report, run_label

    result = run_label(args.store, args.out, config, features=args.features, model=args.model, gt=args.gt)
    print(format_report(result))
