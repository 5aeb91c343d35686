"""A re-ID model file as the tracker's embedder: the boxes cut from the frame, run by :class:`ReidModel`.

ONNX (e.g. OSNet-x0.25 MSMT17) and TorchScript (e.g. this project's exported model) go through the same
runtime as ``rfv evaluate``, so a model embeds crops the same way wherever it is used; its preprocessing comes
from its model card (see :mod:`reid_from_video.export.runtime`).
"""

from __future__ import annotations

import numpy as np

from reid_from_video.embed.base import EmbedderConfig
from reid_from_video.export.runtime import ReidModel


class ModelEmbedder:
    needs_pixels = True

    def __init__(self, config: EmbedderConfig):
        self.model = ReidModel.load(config.weights, config.device)
        self.batch = config.batch

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros((0, 0))
        img_h, img_w = image.shape[:2]
        crops, inside = [], []
        for i, (x, y, w, h) in enumerate(boxes):
            x0, y0 = max(int(x), 0), max(int(y), 0)
            x1, y1 = min(int(np.ceil(x + w)), img_w), min(int(np.ceil(y + h)), img_h)
            if x1 > x0 and y1 > y0:  # a box outside the image keeps a zero row: no appearance to compare
                crops.append(image[y0:y1, x0:x1])
                inside.append(i)
        features = self.model.embed(crops, self.batch) if crops else np.zeros((0, 0), np.float32)
        out = np.zeros((len(boxes), features.shape[1] if crops else 1), np.float32)
        out[inside] = features
        return out
