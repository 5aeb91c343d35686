"""The ``rfv`` command line: one subcommand per stage. It only parses arguments and calls the stage.

Every subcommand takes ``-c/--config FILE`` (a YAML file or a preset name under configs/), ``key=value``
overrides (nested keys with dots), and ``--print-config`` to show the resolved config and exit.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_from_video import __version__
from reid_from_video.config import describe_config, dump_config, load_config, save_config
from reid_from_video.errors import RfvError
from reid_from_video.inspection import InspectConfig, format_report, inspect_path
from reid_from_video.io.atomic import write_json
from reid_from_video.noise.mot_eval import MotEvalConfig, format_table, run_mot_eval, write_outputs

log = logging.getLogger("reid_from_video")


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    config: type
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Any], None]


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    help: str,
    description: str,
    config: type,
    add_arguments: Callable[[argparse.ArgumentParser], None],
) -> Callable:
    """Register ``run(args, config)`` as the subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace, Any], None]) -> Callable:
        COMMANDS[name] = Command(name, help, description, config, add_arguments, run)
        return run

    return register


# ---------------------------------------------------------------------------------------------- inspect


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
def _run_inspect(args: argparse.Namespace, config: Any) -> None:
    report = inspect_path(args.path, config)
    print(format_report(report))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        write_json(args.out / "inspect.json", report)
        save_config(config, args.out)
        print(f"\nwrote {args.out / 'inspect.json'} and {args.out / 'config.yaml'}")


# --------------------------------------------------------------------------------------------- mot-eval


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
    report, rates = run_mot_eval(args.gt, args.results, config)
    print(format_table(report))
    counts = {k: v for k, v in report["warning_counts"].items() if v}
    if counts:
        print(f"\nwarnings: {counts}")
    if args.out:
        written = write_outputs(report, rates, args.out, plots=config.plots)
        written.append(save_config(config, args.out))
        print("\nwrote " + ", ".join(str(p) for p in written))


# ---------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rfv",
        description="reid_from_video: surveillance video -> tracklets -> labels -> a re-ID model, "
        "with no human labels.",
    )
    parser.add_argument("--version", action="version", version=f"rfv {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        keys = "\n  ".join(describe_config(cmd.config))
        sub = subparsers.add_parser(
            cmd.name,
            help=cmd.help,
            description=cmd.description,
            epilog=f"config keys (override with KEY=VALUE, nested keys with dots):\n  {keys}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_arguments(sub)
        sub.add_argument("-c", "--config", help="YAML config file, or a preset name under configs/")
        sub.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
        sub.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # KEY=VALUE overrides may come after options (`rfv inspect P --out D k=v`); argparse leaves those over.
    args, extra = parser.parse_known_args(argv)
    unknown = [a for a in extra if a.startswith("-") or "=" not in a]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command:
        args.overrides = [*args.overrides, *extra]
    # Our messages at INFO; libraries' (motmetrics logs timings at INFO on the root logger) at WARNING.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    log.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if not args.command:
        parser.print_help()
        return 2
    cmd = COMMANDS[args.command]
    try:
        config = load_config(cmd.config, args.config, args.overrides)
        if args.print_config:
            print(dump_config(config), end="")
            return 0
        cmd.run(args, config)
    except RfvError as error:
        print(f"rfv {cmd.name}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rfv {cmd.name}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
