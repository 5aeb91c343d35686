"""The detector interface, its config, and the filters every backend's output goes through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

import cv2
import numpy as np

from reid_from_video.core.config import option

Backend = Literal["yolo", "yolox", "precomputed", "bgsub"]


class Detections(NamedTuple):
    """One frame's person boxes: ``boxes`` (N, 4) float top-left x, y, width, height; ``scores`` (N,)."""

    boxes: np.ndarray
    scores: np.ndarray

    @staticmethod
    def empty() -> Detections:
        return Detections(np.zeros((0, 4)), np.zeros(0))


class Detector(Protocol):
    """Detects persons in a batch of frames. ``frames`` are BGR uint8 images, or None for every frame when
    :attr:`needs_pixels` is False (precomputed detections); ``indices`` are their 1-based frame numbers."""

    needs_pixels: bool

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]: ...


@dataclass
class DetectorConfig:
    """The ``detector`` section: which backend, its model, and the filters applied to every box."""

    backend: Backend = option("yolox", "yolo (ultralytics), yolox (ONNX), precomputed (MOT det file), bgsub")
    weights: str = option(
        "../shared/data/models/yolox_nano.onnx",
        "yolo: a weights file or an ultralytics model name (a name needs the network); yolox: an .onnx file",
    )
    source: str = option(
        "{path}/det/det.txt",
        "precomputed: the det file of a camera; {path} is the camera's path, {name} its name. A deep_sort "
        ".npy detection file (frame,-1,x,y,w,h,score + features) works too",
    )
    device: str = option("auto", "yolo / yolox: auto (GPU when present), cpu, cuda, cuda:1")
    half: bool = option(True, "yolo: half precision on GPU (ignored on CPU)")
    batch: int = option(8, "frames per inference call")
    input_size: int = option(640, "yolo: inference size in pixels (yolox: taken from the ONNX model)")
    score_min: float = option(0.3, "drop boxes scoring below this")
    nms_iou: float | None = option(0.45, "non-maximum suppression IoU among persons; null: none")
    min_height: float = option(0.0, "drop boxes lower than this many pixels")
    min_width: float = option(0.0, "drop boxes narrower than this many pixels")
    aspect: tuple[float, float] = option([0.1, 1.5], "[min, max] width / height of a kept box")
    bg_history: int = option(500, "bgsub: frames in MOG2's background model")
    bg_var_threshold: float = option(16.0, "bgsub: MOG2 variance threshold (higher: less foreground)")
    bg_kernel: int = option(5, "bgsub: morphology kernel size in pixels (opening, then closing twice)")
    bg_min_area: float = option(400.0, "bgsub: smallest blob area in pixels")
    bg_join_height: int = option(
        0,
        "bgsub: also close the mask with a vertical line this many pixels high, joining the parts of a "
        "person broken where clothes match the background; 0: off",
    )
    bg_split_valley: float = option(
        0.0,
        "bgsub: split a blob at a column whose foreground height is below this fraction of the full-height "
        "columns on both sides (people side by side merged into one blob); 0: never split",
    )

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if self.nms_iou is not None and not 0 < self.nms_iou <= 1:
            raise ValueError(f"nms_iou must be in (0, 1] or null, got {self.nms_iou}")
        if not 0 <= self.aspect[0] < self.aspect[1]:
            raise ValueError(f"aspect must be [min, max] with 0 <= min < max, got {list(self.aspect)}")
        if self.bg_join_height < 0:
            raise ValueError(f"bg_join_height must be >= 0, got {self.bg_join_height}")
        if not 0.0 <= self.bg_split_valley < 1.0:
            raise ValueError(f"bg_split_valley must be in [0, 1), got {self.bg_split_valley}")


def filter_detections(dets: Detections, config: DetectorConfig) -> Detections:
    """Score, size and aspect filters, then NMS: the same rules whatever the backend."""
    boxes, scores = dets
    w, h = boxes[:, 2], boxes[:, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        aspect = np.where(h > 0, w / np.where(h > 0, h, 1), np.inf)
    keep = (
        (scores >= config.score_min)
        & (h >= max(config.min_height, 1e-9))
        & (w >= max(config.min_width, 1e-9))
        & (aspect >= config.aspect[0])
        & (aspect <= config.aspect[1])
    )
    boxes, scores = boxes[keep], scores[keep]
    if config.nms_iou is not None and len(boxes) > 1:
        chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), 0.0, config.nms_iou)
        chosen = np.sort(np.asarray(chosen, dtype=int).reshape(-1))
        boxes, scores = boxes[chosen], scores[chosen]
    return Detections(boxes.astype(float), scores.astype(float))
