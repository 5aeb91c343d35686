"""The ``rfv`` command line: one subcommand per stage. It only parses arguments and calls the stage.

Every subcommand takes ``-c/--config FILE`` (a YAML file or a preset name under reid_from_video/configs/),
``key=value`` overrides (nested keys with dots), and ``--print-config`` to show the resolved config and exit.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from reid_from_video import __version__
from reid_from_video.commands import COMMANDS
from reid_from_video.core.atomic import check_writable
from reid_from_video.core.config import describe_config, dump_config, load_config
from reid_from_video.core.errors import RfvError, os_problem
from reid_from_video.core.signals import terminate_as_interrupt

__all__ = ["COMMANDS", "build_parser", "main", "run_step"]

log = logging.getLogger("reid_from_video")


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
        sub.add_argument(
            "-c", "--config", help="YAML config file, or a preset name under reid_from_video/configs/"
        )
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
        preset = args.config or cmd.default_config
        config = load_config(cmd.config, preset, args.overrides, stage=cmd.presets)
        if args.print_config:
            print(dump_config(config), end="")
            return 0
        if getattr(args, "out", None) is not None:
            check_writable(args.out, folder=not cmd.out_is_file)
        with terminate_as_interrupt():  # SIGTERM: workers stopped, locks released, as for Ctrl-C
            cmd.run(args, config)
    except RfvError as error:
        print(f"rfv {cmd.name}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # one that no reader or writer made an RfvError: still one line, with its path
        print(f"rfv {cmd.name}: error: {os_problem(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rfv {cmd.name}: interrupted", file=sys.stderr)
        return 130
    return 0


def run_step(argv: Sequence[str]) -> None:
    """``rfv ARGV`` as one step of a script (the examples): echoed, and the script stops when it fails."""
    print("\n$ rfv " + " ".join(argv), flush=True)
    if main(argv) != 0:
        raise SystemExit(f"rfv {argv[0]} failed")


if __name__ == "__main__":
    raise SystemExit(main())
