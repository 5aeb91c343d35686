"""What the tracker's embedder reads, checked before tracking starts (see :mod:`reid_from_video.core.inputs`):
the model file of the ``onnx`` and ``torch`` backends (``precomputed``'s files are per camera, checked as each
camera starts)."""

from __future__ import annotations

from reid_from_video.core.errors import MissingInput
from reid_from_video.core.inputs import missing_file
from reid_from_video.embed.base import EmbedderConfig


def embedder_inputs(config: EmbedderConfig, prefix: str = "") -> list[MissingInput]:
    """The embedder's missing inputs, under the keys ``{prefix}embedder.*``."""
    if config.backend not in ("onnx", "torch"):
        return []
    key = f"{prefix}embedder.weights"
    return missing_file(
        key,
        config.weights,
        f"Give a re-ID model file: {key}=PATH/osnet_x0_25_msmt17.onnx (ONNX, TorchScript or an rfv train "
        f"model.pt), or track without one: {prefix}embedder.backend=histogram (colour) or none (motion only)",
    )
