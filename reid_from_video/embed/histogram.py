"""Colour histograms as appearance features: no model, weak but better than nothing for clothing colours.

HSV histogram of the upper and lower half of each box (torso and legs), square-rooted (Hellinger) so that the
cosine distance behaves like a histogram distance, then L2-normalised.
"""

from __future__ import annotations

import cv2
import numpy as np

from reid_from_video.core.distances import normalize_rows
from reid_from_video.embed.base import EmbedderConfig
from reid_from_video.io.store import crop_box


class HistogramEmbedder:
    needs_pixels = True
    # Not stored for rfv label: a histogram of the frame's pixels is not that of the saved JPEG crop (its
    # 4:2:0 chroma moves hues across bins; cosine 0.75-0.9 on a synthetic world), and it is cheap to redo.
    identity = None
    appearance_gate = None  # no calibrated gate: tracker.max_cosine_distance

    def __init__(self, config: EmbedderConfig):
        self.bins = config.bins

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        size = 2 * self.bins**3
        out = np.zeros((len(boxes), size))
        for i, box in enumerate(boxes):
            crop = crop_box(image, *box)
            if crop is None or len(crop) < 2:  # outside the image, or no two halves: a zero row
                continue
            hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
            middle = hsv.shape[0] // 2
            parts = [
                cv2.calcHist([half], [0, 1, 2], None, [self.bins] * 3, [0, 180, 0, 256, 0, 256]).ravel()
                for half in (hsv[:middle], hsv[middle:])
            ]
            out[i] = np.sqrt(np.concatenate(parts) / max(hsv.shape[0] * hsv.shape[1], 1))
        return normalize_rows(out)

    def embed_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        """The histograms of whole crops (saved ones, e.g. a store's), one row each."""
        if not crops:
            return np.zeros((0, 2 * self.bins**3))
        whole = [np.array([[0, 0, c.shape[1], c.shape[0]]], np.float64) for c in crops]
        return np.concatenate([self.embed(c, box, 0) for c, box in zip(crops, whole, strict=True)])
