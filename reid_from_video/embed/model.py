"""A re-ID model file as the tracker's embedder: the boxes cut from the frame, run by :class:`ReidModel`.

ONNX (e.g. OSNet-x0.25 MSMT17) and TorchScript (e.g. this project's exported model) go through the same
runtime as ``rfv evaluate``, so a model embeds crops the same way wherever it is used; its preprocessing comes
from its model card (see :mod:`reid_from_video.export.runtime`).
"""

from __future__ import annotations

import numpy as np

from reid_from_video.embed.base import EmbedderConfig
from reid_from_video.export.runtime import ReidModel
from reid_from_video.io.store import crop_box


class ModelEmbedder:
    needs_pixels = True

    def __init__(self, config: EmbedderConfig):
        self.model = ReidModel.load(config.weights, config.device)
        self.batch = config.batch

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros((0, 0))
        # Cut as the tracklet store cuts its crops; a box outside the image keeps a zero row.
        cut = [crop_box(image, *box) for box in boxes]
        inside = [i for i, crop in enumerate(cut) if crop is not None]
        crops = [cut[i] for i in inside]
        features = self.model.embed(crops, self.batch) if crops else np.zeros((0, 0), np.float32)
        out = np.zeros((len(boxes), features.shape[1] if crops else 1), np.float32)
        out[inside] = features
        return out
