"""What the tracker's embedder reads, checked before tracking starts (see :mod:`reid_from_video.core.inputs`):
the model file of the ``onnx`` and ``torch`` backends, and a model.pt's pickle (what a weights-only load
would refuse is told before any stage); ``precomputed``'s files are per camera, checked as each camera
starts."""

from __future__ import annotations

from pathlib import Path

from reid_from_video.core.checkpoint import pickle_problem
from reid_from_video.core.errors import MissingInput
from reid_from_video.core.inputs import missing_file
from reid_from_video.embed.base import EmbedderConfig


def embedder_inputs(config: EmbedderConfig, prefix: str = "") -> list[MissingInput]:
    """The embedder's missing inputs, under the keys ``{prefix}embedder.*``."""
    if config.backend not in ("onnx", "torch"):
        return []
    key = f"{prefix}embedder.weights"
    remedy = (
        f"Give a re-ID model file: {key}=PATH/osnet_x0_25_msmt17.onnx (ONNX, TorchScript or an rfv train "
        f"model.pt), or track without one: {prefix}embedder.backend=histogram (colour) or none (motion only)"
    )
    from reid_from_video.embed.runtime import TORCH_SUFFIXES
    from reid_from_video.embed.source import is_torchscript

    missing = missing_file(key, config.weights, remedy)
    path = Path(config.weights)
    if missing or path.suffix.lower() not in TORCH_SUFFIXES or not path.is_file() or is_torchscript(path):
        return missing
    problem = pickle_problem(path)  # a model.pt that a weights-only load refuses, told before any stage
    return [] if problem is None else [MissingInput(key, config.weights, f"refused: {problem}", remedy)]
