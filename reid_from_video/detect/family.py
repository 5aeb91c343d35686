"""Which detector an ONNX file is, so that ``detector.weights=yolox_nano.onnx`` alone picks the YOLOX backend.

Both backends read ONNX files: ultralytics runs its own exports (``yolo11n.onnx``), and the ``yolox``
backend runs YOLOX's. They are told apart by what the files carry:

* ultralytics writes its name into the model's metadata (``author: Ultralytics ...``) and its head is
  1 x (4 + classes) x anchors;
* YOLOX's export has no metadata and its raw head is 1 x anchors x (5 + classes): box, objectness, 80
  COCO scores (:mod:`reid_from_video.detect.yolox`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from reid_from_video.detect.config import DetectorConfig

YOLOX_HEAD = 85  # (cx, cy, w, h), objectness, 80 COCO classes


def onnx_family(path: str | Path) -> Literal["yolox", "ultralytics"] | None:
    """The detector family of the ONNX file ``path``; None when it is neither (or unreadable)."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # protobuf decode and I/O errors: the backend's loader says what is wrong
        return None
    if any("ultralytics" in prop.value.lower() for prop in model.metadata_props):
        return "ultralytics"
    outputs = model.graph.output
    if len(outputs) != 1:
        return None
    dims = [dim.dim_value for dim in outputs[0].type.tensor_type.shape.dim]
    if len(dims) == 3 and dims[2] == YOLOX_HEAD and dims[1] > dims[2]:
        return "yolox"
    return None


def with_onnx_backend(config: DetectorConfig, announce: bool = False) -> DetectorConfig:
    """``config`` with the ``yolox`` backend when ``weights`` is a YOLOX ONNX file given to the default
    ``yolo`` backend (ultralytics cannot run it); ``config`` itself otherwise."""
    weights = Path(config.weights)
    if config.backend != "yolo" or weights.suffix.lower() != ".onnx" or not weights.is_file():
        return config
    if onnx_family(weights) != "yolox":
        return config
    if announce:
        print(f"detector.weights {weights} is a YOLOX ONNX model: run by the yolox backend", flush=True)
    return dataclasses.replace(config, backend="yolox")
