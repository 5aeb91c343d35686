"""The detector interface, its config, and the filters every backend's output goes through."""

from __future__ import annotations

from typing import NamedTuple, Protocol

import cv2
import numpy as np

from reid_from_video.detect.config import DetectorConfig


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
