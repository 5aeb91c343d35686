"""``rfv inspect``: report what a folder holds."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.io.config import InspectConfig


def _inspect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        type=Path,
        help="a camera folder or video, a MOTChallenge tree, a MARS "
        "folder (or its info/), or a tracklet store",
    )
    parser.add_argument("--out", type=Path, help="folder for inspect.json and the resolved config.yaml")


@command(
    "inspect",
    help="report what a folder holds: cameras, MOT ground truth, MARS, a tracklet store",
    description="Look at a path the way the pipeline will: list its cameras (video files, image folders, "
    "MOTChallenge sequences) with fps, frame count, size and start time; summarise MOTChallenge ground "
    "truth and detections; count MARS tracklets, identities and queries; summarise a tracklet store. "
    "With decode=true every frame is decoded, and corrupt frames are counted.",
    config=InspectConfig,
    add_arguments=_inspect_arguments,
)
def _run_inspect(args: argparse.Namespace, config: InspectConfig) -> None:
    from reid_from_video.inspection import format_report, run_inspect

    print(format_report(run_inspect(args.path, args.out, config)))
