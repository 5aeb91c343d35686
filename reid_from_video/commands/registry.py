"""The registry of ``rfv`` subcommands: each stage module registers one with :func:`command`.

A command module parses nothing itself: argparse arguments come from ``add_arguments``, the config from
``config`` (a dataclass, see :mod:`reid_from_video.core.config`), and ``run(args, config)`` calls the
stage's one function (which writes the stage's folder) and prints its result.
Heavy imports (torch, ultralytics) belong inside ``run`` so that ``rfv --help`` stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    config: type
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Any], None]
    presets: str = ""  # its presets' folder in reid_from_video/configs/ (default: the command's name)
    default_config: str | None = None  # the preset used when no -c is given
    out_is_file: bool = False  # --out names a file (else a folder)


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    help: str,
    description: str,
    config: type,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    presets: str = "",
    default_config: str | None = None,
    out_is_file: bool = False,
) -> Callable:
    """Register ``run(args, config)`` as the subcommand ``name``."""

    def register(run: Callable[[argparse.Namespace, Any], None]) -> Callable:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} registered twice")
        COMMANDS[name] = Command(
            name, help, description, config, add_arguments, run, presets or name, default_config, out_is_file
        )
        return run

    return register
