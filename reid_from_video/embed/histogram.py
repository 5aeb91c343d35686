"""Colour histograms as appearance features: no model, weak but better than nothing for clothing colours.

HSV histogram of the upper and lower half of each box (torso and legs), square-rooted (Hellinger) so that the
cosine distance behaves like a histogram distance, then L2-normalised.
"""

from __future__ import annotations

import cv2
import numpy as np

from reid_from_video.embed.base import EmbedderConfig, normalize_rows


class HistogramEmbedder:
    needs_pixels = True

    def __init__(self, config: EmbedderConfig):
        self.bins = config.bins

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        size = 2 * self.bins**3
        out = np.zeros((len(boxes), size))
        img_h, img_w = image.shape[:2]
        for i, (x, y, w, h) in enumerate(boxes):
            x0, y0 = max(int(x), 0), max(int(y), 0)
            x1, y1 = min(int(np.ceil(x + w)), img_w), min(int(np.ceil(y + h)), img_h)
            if x1 <= x0 or y1 - y0 < 2:
                continue
            hsv = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2HSV)
            middle = hsv.shape[0] // 2
            parts = [
                cv2.calcHist([half], [0, 1, 2], None, [self.bins] * 3, [0, 180, 0, 256, 0, 256]).ravel()
                for half in (hsv[:middle], hsv[middle:])
            ]
            out[i] = np.sqrt(np.concatenate(parts) / max(hsv.shape[0] * hsv.shape[1], 1))
        return normalize_rows(out)
