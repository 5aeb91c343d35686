"""What ``rfv associate`` reads besides the store and the model, checked before anything runs: the topology
file when one is given (see :mod:`reid_from_video.core.inputs`)."""

from __future__ import annotations

from reid_from_video.associate.config import AssociateConfig
from reid_from_video.core.errors import MissingInput
from reid_from_video.core.inputs import missing_file


def associate_inputs(config: AssociateConfig, prefix: str = "") -> list[MissingInput]:
    """The missing inputs of ``config`` under ``{prefix}topology`` (``rfv run`` passes ``associate.``)."""
    if not config.topology:
        return []
    return missing_file(
        f"{prefix}topology", config.topology, "Give a CSV of the walkways: camera_a,camera_b,least_seconds"
    )
