"""What ``rfv train`` reads besides its data and labels, checked before the data is loaded: the network's
start (``model.init`` / ``model.weights``) and the evaluation set (see :mod:`reid_from_video.core.inputs`)."""

from __future__ import annotations

from reid_from_video.core.errors import MissingInput
from reid_from_video.core.inputs import missing_file
from reid_from_video.models.inputs import model_inputs
from reid_from_video.train.config import TrainConfig


def train_inputs(config: TrainConfig, prefix: str = "") -> list[MissingInput]:
    """The missing inputs of ``config``, under the keys ``{prefix}model.*`` and ``{prefix}eval.data``
    (``rfv run`` passes ``train.``)."""
    missing = model_inputs(config.model, prefix)
    if config.eval.data:
        key = f"{prefix}eval.data"
        missing += missing_file(key, config.eval.data, f"Give a MARS root or a tracklet store: {key}=PATH")
    return missing
