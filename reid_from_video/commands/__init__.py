"""One module per ``rfv`` subcommand; importing this package registers them all, in help order."""

from reid_from_video.commands import (  # noqa: F401  (registration)
    associate,
    demo,
    embed,
    evaluate,
    export,
    inspect,
    label,
    mot_eval,
    report,
    run,
    search,
    simulate,
    synth,
    track,
    train,
)
from reid_from_video.commands.registry import COMMANDS

__all__ = ["COMMANDS"]
