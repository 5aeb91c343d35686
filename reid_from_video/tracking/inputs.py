"""What ``rfv track`` reads besides the cameras, checked before any camera is tracked: the detector's and
the embedder's files or model names (see :mod:`reid_from_video.core.inputs`)."""

from __future__ import annotations

from reid_from_video.core.errors import MissingInput
from reid_from_video.detect.inputs import detector_inputs
from reid_from_video.embed.inputs import embedder_inputs
from reid_from_video.tracking.config import TrackConfig


def track_inputs(config: TrackConfig, prefix: str = "") -> list[MissingInput]:
    """The missing inputs of ``config``, under the keys ``{prefix}detector.*`` and ``{prefix}embedder.*``
    (``rfv run`` passes ``track.``)."""
    return detector_inputs(config.detector, prefix) + embedder_inputs(config.embedder, prefix)
