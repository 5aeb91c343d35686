"""What makes a set of appearance features: enough to tell whether another run would compute the same ones.

An identity is a small JSON object. A model's names its file and the file's sha256 (the content, so a
renamed copy is the same model and a retrained file of the same name is not) and its preprocessing (the
model card's input size, mean, std and channel order).
Stored features are reused only where the identity of the stored ones equals the one of the embedder at
hand, key by key (:func:`reid_from_video.io.stored_features.difference`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reid_from_video.core.fingerprint import file_sha256

if TYPE_CHECKING:
    from reid_from_video.embed.runtime import ReidModel

Identity = dict[str, Any]


def model_identity(model: ReidModel) -> Identity:
    """The identity of a model loaded from a file by ``ReidModel.load``."""
    card = model.card
    return {
        "kind": "model",
        "file": model.path.name,
        "sha256": file_sha256(model.path),
        "input_size": [int(v) for v in card.input_size],
        "mean": [float(v) for v in card.mean],
        "std": [float(v) for v in card.std],
        "colour": card.colour,
    }
