"""What makes a set of appearance features: enough to tell whether another run would compute the same ones.

An identity is a small JSON object. A model's names its file and the file's sha256 (the content, so a
renamed copy is the same model and a retrained file of the same name is not) and its preprocessing (the
model card's input size, mean, std and channel order).
Stored features are reused only where the identity of the stored ones equals the one of the embedder at
hand, key by key (:func:`reid_from_video.io.stored_features.difference`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reid_from_video.core.fingerprint import file_sha256

if TYPE_CHECKING:
    from reid_from_video.embed.runtime import ReidModel
    from reid_from_video.models.config import ModelConfig

Identity = dict[str, Any]


def model_identity(model: ReidModel) -> Identity:
    """The identity of a model loaded from a file by ``ReidModel.load``."""
    card = model.card
    return _file_identity(model.path, card.input_size, card.mean, card.std, card.colour)


def start_network_identity(config: ModelConfig) -> Identity | None:
    """The identity of the network training starts from (``rfv label --model network``) when it computes
    what a model file computes: an ONNX OSNet ``init`` file with nothing added after its feature
    (``embedding_dim`` 0; the new BN-neck is the identity up to scale before training, and features are
    unit rows). The loaded network matches onnxruntime on the same crops to cosine >= 0.9999
    (tests/test_osnet.py), so the tracker's features of that file are the network's. None otherwise."""
    init = Path(config.init) if config.init else None
    if init is None or init.suffix.lower() != ".onnx" or config.embedding_dim or not init.is_file():
        return None
    return _file_identity(init, config.input_size, config.mean, config.std, config.colour)


def _file_identity(
    path: Path, input_size: Sequence[int], mean: Sequence[float], std: Sequence[float], colour: str
) -> Identity:
    """A model file's identity: its content and the preprocessing its features were made with."""
    return {
        "kind": "model",
        "file": path.name,
        "sha256": file_sha256(path),
        "input_size": [int(v) for v in input_size],
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "colour": colour,
    }
