"""One module per ``rfv`` subcommand; importing this package registers them all, in help order."""

from reid_from_video.commands import evaluate, inspect, mot_eval, simulate, synth  # noqa: F401  (registration)
from reid_from_video.commands.registry import COMMANDS, Command, command

__all__ = ["COMMANDS", "Command", "command"]
