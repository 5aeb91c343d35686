"""YOLOX (the detector family behind ByteTrack) as an ONNX model run by onnxruntime.

The exported model takes N x 3 x S x S BGR 0-255 (letterboxed, padded with 114, no normalisation; a file
with a fixed batch of 1 has it freed where the graph allows: :mod:`reid_from_video.core.onnx_session`) and
returns the raw head: per anchor point (cx, cy, w, h) offsets, objectness and 80 COCO class scores, which
are decoded on the grids of strides 8, 16 and 32. Class 0 is person.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from reid_from_video.core.errors import InputError
from reid_from_video.detect.base import Detections, filter_detections
from reid_from_video.detect.config import DetectorConfig

STRIDES = (8, 16, 32)
PAD_VALUE = 114


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio into the top-left of a (height, width) canvas of 114; the scale."""
    height, width = size
    ratio = min(height / image.shape[0], width / image.shape[1])
    resized = cv2.resize(
        image,
        (int(image.shape[1] * ratio), int(image.shape[0] * ratio)),
        interpolation=cv2.INTER_LINEAR,
    )
    canvas = np.full((height, width, 3), PAD_VALUE, dtype=np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized
    return canvas, ratio


def grid_decode(raw: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Raw head output (A, 5 + C) -> boxes as (cx, cy, w, h) in input pixels, objectness, class scores."""
    grids, strides = [], []
    for stride in STRIDES:
        h, w = size[0] // stride, size[1] // stride
        ys, xs = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        grids.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((h * w, 1), stride))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    if len(grid) != len(raw):
        raise ValueError(f"the model gives {len(raw)} anchor points, a {size} input on strides {STRIDES} has "
                         f"{len(grid)}")  # fmt: skip
    out = raw.astype(np.float32).copy()
    out[:, :2] = (out[:, :2] + grid) * stride
    out[:, 2:4] = np.exp(out[:, 2:4]) * stride
    return out


class YoloxOnnxDetector:
    needs_pixels = True

    def __init__(self, config: DetectorConfig):
        from reid_from_video.core.onnx_session import open_onnx
        from reid_from_video.core.runtime_options import OnnxRuntime

        path = Path(config.weights)
        if not path.is_file():
            raise InputError(path, "YOLOX ONNX model not found (detector.weights)")
        self.model = open_onnx(path, config.device, OnnxRuntime.of(config))
        shape = self.model.input_shape
        if len(shape) != 4 or not all(isinstance(s, int) for s in shape[2:]):
            raise InputError(path, f"expected one N x 3 x S x S input of fixed size, found {list(shape)}")
        self.size = (int(shape[2]), int(shape[3]))
        self.batch = self.model.batch or config.batch
        self.config = config

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]:
        out: list[Detections] = []
        for start in range(0, len(frames), self.batch):
            chunk = frames[start : start + self.batch]
            boxed = [letterbox(frame, self.size) for frame in chunk]
            blob = np.stack([b.transpose(2, 0, 1) for b, _ in boxed]).astype(np.float32)
            raw = self.model.run(blob)
            for head, (_, ratio) in zip(raw, boxed, strict=True):
                out.append(self._persons(grid_decode(head, self.size), ratio))
        return out

    def _persons(self, decoded: np.ndarray, ratio: float) -> Detections:
        scores = decoded[:, 4] * decoded[:, 5]  # objectness x P(person)
        keep = scores >= self.config.score_min
        cxcywh = decoded[keep, :4] / ratio
        boxes = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, 2:]], axis=1)
        return filter_detections(Detections(boxes.astype(float), scores[keep].astype(float)), self.config)
