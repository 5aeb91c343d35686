"""``rfv associate``: a camera network's tracklets linked into global identities."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.associate.config import AssociateConfig
from reid_from_video.commands.registry import command


def _associate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", type=Path, help="a tracklet store (rfv track), or an rfv run folder")
    parser.add_argument(
        "--model",
        required=True,
        help="the re-ID model whose features link tracklets: ONNX, TorchScript, rfv train's model.pt, or "
        "'histogram' (colour histograms, no model)",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for mot/, journeys.csv, the page")


@command(
    "associate",
    help="link the tracklets of all cameras into global identities (where else did this person go?)",
    description="Embed every tracklet (the mean of a few crops; the features rfv track stored are reused "
    "when the same model made them), centre each camera's features, and merge tracklets by average linkage "
    "below a threshold learnt without labels: the distances between tracklets of one camera seen at the "
    "same time, which are different people. Two such tracklets never share an identity. Writes the MOT "
    "files with global ids (rfv mot-eval GT OUT/mot cross_camera=global scores them), journeys.csv, "
    "associate.json (with the transit times between cameras) and identities.html.",
    config=AssociateConfig,
    add_arguments=_associate_arguments,
)
def _run_associate(args: argparse.Namespace, config: AssociateConfig) -> None:
    from reid_from_video.associate.run import run_associate
    from reid_from_video.report.identities import write_identities_page

    result = run_associate(args.store, args.out, config, args.model)
    page = write_identities_page(args.out, config.max_identities)
    print(f"{result.report()}\n{page}")
