"""Background subtraction for static cameras: OpenCV MOG2, shadow removal, morphology, contour boxes.

Needs no weights. Moving blobs are boxes; the score is the share of foreground pixels inside the box. The
model learns the background from the frames it sees, so it is stateful: one detector per camera, frames in
order. People walking side by side merge into one blob; with ``bg_split_valley`` set, a blob is cut at a
column where its foreground is much lower than at a full-height column on either side
(:func:`split_columns`), and each part gets its own tight box.
"""

from __future__ import annotations

import cv2
import numpy as np

from reid_from_video.detect.base import Detections, filter_detections
from reid_from_video.detect.config import DetectorConfig

SHADOW_LEVEL = 127  # MOG2 marks shadows with this value and foreground with 255
FULL_HEIGHT = 0.6  # a column "holds a person" when its foreground spans this share of the blob's height
MIN_PART_WIDTH = 0.12  # parts of a split blob are at least this share of its height wide


def split_columns(blob: np.ndarray, valley: float) -> list[tuple[int, int]]:
    """Column ranges ``[start, stop)`` of the people in one blob's binary mask (rows x columns).

    The blob is cut at the column of least foreground when that column has less than ``valley`` times the
    foreground of the tallest column on each side, and both sides have a column of at least
    :data:`FULL_HEIGHT` of the blob's height; the parts are split again the same way.
    """
    height, width = blob.shape
    counts = np.count_nonzero(blob, axis=0).astype(float)
    if valley <= 0 or width < 2 * max(2, MIN_PART_WIDTH * height):
        return [(0, width)]
    counts = np.convolve(counts, np.ones(3) / 3, mode="same")  # one odd column is no valley
    margin = max(2, int(MIN_PART_WIDTH * height))
    left_peak = np.maximum.accumulate(counts)
    right_peak = np.maximum.accumulate(counts[::-1])[::-1]
    cut = np.arange(margin, width - margin)
    peaks = np.minimum(left_peak[cut - 1], right_peak[cut])
    ok = (peaks >= FULL_HEIGHT * height) & (counts[cut] < valley * peaks)
    if not ok.any():
        return [(0, width)]
    best = int(cut[ok][np.argmin(counts[cut][ok] / peaks[ok])])
    left = split_columns(blob[:, :best], valley)
    right = split_columns(blob[:, best:], valley)
    return left + [(start + best, stop + best) for start, stop in right]


class BackgroundSubtractionDetector:
    needs_pixels = True

    def __init__(self, config: DetectorConfig):
        self.config = config
        self.model = cv2.createBackgroundSubtractorMOG2(
            history=config.bg_history, varThreshold=config.bg_var_threshold, detectShadows=True
        )
        self.kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (config.bg_kernel, config.bg_kernel))
        self.join = (
            cv2.getStructuringElement(cv2.MORPH_RECT, (1, config.bg_join_height))
            if config.bg_join_height > 1
            else None
        )

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]:
        return [self._one(frame) for frame in frames]

    def _one(self, frame: np.ndarray) -> Detections:
        mask = self.model.apply(frame)
        mask = np.where(mask > SHADOW_LEVEL, 255, 0).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self.kernel)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.kernel, iterations=2)
        if self.join is not None:
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self.join)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes, scores = [], []
        for contour in contours:
            if cv2.contourArea(contour) < self.config.bg_min_area:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            blob = np.zeros((h, w), np.uint8)
            cv2.drawContours(blob, [contour], -1, 255, cv2.FILLED, offset=(-x, -y))
            blob &= mask[y : y + h, x : x + w]
            for start, stop in split_columns(blob, self.config.bg_split_valley):
                rows = np.flatnonzero(blob[:, start:stop].any(axis=1))
                if not len(rows):
                    continue
                top, bottom = int(rows[0]), int(rows[-1]) + 1
                part = blob[top:bottom, start:stop]
                boxes.append((x + start, y + top, stop - start, bottom - top))
                scores.append(float(np.count_nonzero(part)) / part.size)
        if not boxes:
            return Detections.empty()
        return filter_detections(Detections(np.array(boxes, float), np.array(scores, float)), self.config)
