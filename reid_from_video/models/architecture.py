"""The architecture a ``model.init`` file holds, so that the file alone decides what is built.

``rfv run FOLDER --out RUN train.model.init=osnet_x0_25_msmt17.onnx`` should not also need
``train.model.backbone=osnet_x0_25``: the file says which network it is. Read from

* an ONNX OSNet: the output channels of its first convolution (conv1: 64, 48, 32, 16 for x1_0 ... x0_25),
  given that the graph has OSNet's depthwise convolutions (a ResNet also opens with a 64-channel 7 x 7);
* an ``rfv train`` ``model.pt``: the backbone of its stored config;
* a state dict: torchreid's OSNet key ``conv1.conv.weight`` (its width as above), or torchvision's ResNet
  (``layer1.0.conv3`` only in ResNet-50's bottlenecks).

A file this cannot read returns None and loading reports the problem (:mod:`reid_from_video.models.init`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reid_from_video.core.errors import InputError
from reid_from_video.models.config import OSNET_WIDTHS, ModelConfig

OSNET_BY_CONV1 = {widths[0]: name for name, widths in OSNET_WIDTHS.items()}


def init_architecture(path: str | Path) -> str | None:
    """The backbone name of the ``model.init`` file ``path``, or None when the file does not say."""
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix.lower() == ".onnx":
        return _onnx_architecture(path)
    from reid_from_video.models.backbones import read_tensors_file

    try:
        content = read_tensors_file(path)
    except InputError:
        return None
    return _tensors_architecture(content)


def with_init_architecture(config: ModelConfig, announce: bool = True) -> ModelConfig:
    """``config`` with ``backbone`` set to its ``init`` file's architecture (a note printed when that
    replaces a different ``backbone``); ``config`` itself without an init file or when the file does not
    say."""
    if not config.init:
        return config
    found = init_architecture(config.init)
    if found is None or found == config.backbone:
        return config
    if announce:
        print(
            f"model.init {config.init} holds the network {found}: built as {found} (model.backbone="
            f"{config.backbone} applies to starts without an init file)",
            flush=True,
        )
    return dataclasses.replace(config, backbone=found)


def _onnx_architecture(path: Path) -> str | None:
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path)).graph
    except Exception:  # protobuf decode and I/O errors: loading says what is wrong
        return None
    convs = [node for node in graph.node if node.op_type == "Conv"]
    if not convs or len(convs[0].input) < 2:
        return None
    depthwise = any(
        attribute.name == "group" and attribute.i > 1 for node in convs for attribute in node.attribute
    )
    weights = {tensor.name: tensor for tensor in graph.initializer}
    first = weights.get(convs[0].input[1])
    if first is None or not depthwise:
        return None
    return OSNET_BY_CONV1.get(int(numpy_helper.to_array(first).shape[0]))


def _tensors_architecture(content: Any) -> str | None:
    if not isinstance(content, Mapping):
        return None
    stored = content.get("model")
    if isinstance(stored, Mapping) and "state_dict" in content:  # rfv train's model.pt
        backbone = stored.get("backbone")
        return backbone if isinstance(backbone, str) else None
    state = content.get("state_dict", content)
    if not isinstance(state, Mapping):
        return None
    keys = {str(key).removeprefix("module.") for key in state}
    conv1 = state.get("conv1.conv.weight", state.get("module.conv1.conv.weight"))
    if conv1 is not None and hasattr(conv1, "shape"):
        return OSNET_BY_CONV1.get(int(conv1.shape[0]))
    if "conv1.weight" in keys and "layer1.0.conv1.weight" in keys:
        return "resnet50" if "layer1.0.conv3.weight" in keys else "resnet18"
    return None
