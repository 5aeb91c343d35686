"""Background subtraction for static cameras: OpenCV MOG2, shadow removal, morphology, contour boxes.

Needs no weights. Moving blobs are boxes; the score is the share of foreground pixels inside the box. The
model learns the background from the frames it sees, so it is stateful: one detector per camera, frames in
order.
"""

from __future__ import annotations

import cv2
import numpy as np

from reid_from_video.detect.base import Detections, DetectorConfig, filter_detections

SHADOW_LEVEL = 127  # MOG2 marks shadows with this value and foreground with 255


class BackgroundSubtractionDetector:
    needs_pixels = True

    def __init__(self, config: DetectorConfig):
        self.config = config
        self.model = cv2.createBackgroundSubtractorMOG2(
            history=config.bg_history, varThreshold=config.bg_var_threshold, detectShadows=True
        )
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (config.bg_kernel, config.bg_kernel))

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]:
        return [self._one(frame) for frame in frames]

    def _one(self, frame: np.ndarray) -> Detections:
        mask = self.model.apply(frame)
        mask = np.where(mask > SHADOW_LEVEL, 255, 0).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.kernel, iterations=2)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes, scores = [], []
        for contour in contours:
            if cv2.contourArea(contour) < self.config.bg_min_area:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((x, y, w, h))
            scores.append(float(np.count_nonzero(mask[y : y + h, x : x + w])) / (w * h))
        if not boxes:
            return Detections.empty()
        return filter_detections(Detections(np.array(boxes, float), np.array(scores, float)), self.config)
