"""``rfv synth``: generate a synthetic multi-camera world with ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.synth.config import SynthConfig


def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="folder for the world (created if missing)")


@command(
    "synth",
    help="generate a synthetic multi-camera world: videos, MOT gt with global ids, MARS crops",
    description="Render K static cameras watching P people who walk, pause, cross and occlude each other, "
    "leave and reappear in other cameras after the topology's transit times. Writes OUT/videos/<camera>.mp4, "
    "OUT/gt/<camera>/gt/gt.txt (MOTChallenge, global identity ids, visibility from the drawn pixels) with "
    "seqinfo.ini, OUT/mars/ (gt crops in the MARS layout, disjoint train/test identities, MARS-style "
    "queries), OUT/contact_sheet.jpg and OUT/world.json (written last). The same seed gives the same world. "
    "Example: rfv synth --out runs/world cameras=3 identities=40 seconds=60 fps=10 size=640x360 seed=0",
    config=SynthConfig,
    add_arguments=_synth_arguments,
)
def _run_synth(args: argparse.Namespace, config: SynthConfig) -> None:
    from reid_from_video.synth.pipeline import synthesize

    print(synthesize(config, args.out).summary(config))
