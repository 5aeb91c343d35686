"""The ``rfv`` command line: one subcommand per stage. It only parses arguments and calls the stage.

Every subcommand takes ``-c/--config FILE`` (a YAML file or a preset name under configs/), ``key=value``
overrides (nested keys with dots), and ``--print-config`` to show the resolved config and exit.
"""

from __future__ import annotations

import argparse
import json
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
from reid_from_video.io.atomic import atomic_write

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


def write_json(path: Path, data: Any) -> None:
    with atomic_write(path) as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


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
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
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
