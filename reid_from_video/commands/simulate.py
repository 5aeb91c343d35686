"""``rfv simulate``: noisy tracklets at a target rFM / rSW from the clean tracklets of MARS."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.noise.config import SimulateConfig


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "mars", type=Path, help="a MARS root (info/ + bbox_train/ + bbox_test/) or its info/ folder alone"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for index.csv, pieces.csv, simulate.json"
    )


@command(
    "simulate",
    help="simulate a tracker's noisy tracklets on MARS at a target rFM / rSW (TMC section 4.1)",
    description="Cut and regroup the clean MARS tracklets of each camera into noisy tracklets whose "
    "measured rate of fragmentation (tracklets per identity) and rate of switch (identities per tracklet) "
    "hit the targets. Presets: -c mars_1.7_1.2, mars_2.5_1.2, mars_2.5_1.5 (the TMC paper's Table 1). "
    "Works on the .mat files alone (no paths in the output then) or on a full MARS tree (paths to the "
    "images, no copies). Writes a tracklet store index (index.csv) with the true identity of every frame "
    "(gt_id), the pieces behind it (pieces.csv) and the achieved rates (simulate.json).",
    config=SimulateConfig,
    add_arguments=_simulate_arguments,
)
def _run_simulate(args: argparse.Namespace, config: SimulateConfig) -> None:
    from reid_from_video.noise.simulate import format_report, run_simulate

    print(format_report(run_simulate(args.mars, args.out, config)))
