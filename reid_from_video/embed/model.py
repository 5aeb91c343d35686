"""A re-ID model file as the tracker's embedder: the boxes cut from the frame, run by :class:`ReidModel`.

ONNX (e.g. OSNet-x0.25 MSMT17, or this project's ``rfv export`` output), TorchScript and ``rfv train``'s
``model.pt`` go through the same runtime as ``rfv evaluate`` and ``rfv embed``, so a model embeds crops the
same way wherever it is used; its preprocessing comes from its model card (see
:mod:`reid_from_video.embed.runtime`). A camera network is re-tracked with the model it helped train by
``rfv track CAMERAS --out RUN embedder.backend=onnx embedder.weights=EXPORT/model.onnx``.
"""

from __future__ import annotations

import numpy as np

from reid_from_video.core.runtime_options import OnnxRuntime
from reid_from_video.embed.base import EmbedderConfig
from reid_from_video.embed.identity import model_identity
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.io.store import crop_box


class ModelEmbedder:
    needs_pixels = True

    def __init__(self, config: EmbedderConfig):
        self.model = ReidModel.load(config.weights, config.device, runtime=OnnxRuntime.of(config))
        self.identity = model_identity(self.model)
        self.appearance_gate = self.model.card.appearance_gate
        self.batch = config.batch
        self.feature_dim: int | None = self.model.card.feature_dim  # else known after the first crops

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros((0, self.feature_dim or 0), np.float32)
        # Cut as the tracklet store cuts its crops; a box outside the image keeps a zero row.
        cut = [crop_box(image, *box) for box in boxes]
        inside = [i for i, crop in enumerate(cut) if crop is not None]
        crops = [cut[i] for i in inside]
        if crops:
            features = self.model.embed(crops, self.batch)
            self.feature_dim = features.shape[1]
        else:  # zero rows as wide as the model's features, so that they stack with other frames' rows
            features = np.zeros((0, self.feature_dim or 1), np.float32)
        out = np.zeros((len(boxes), features.shape[1]), np.float32)
        out[inside] = features
        return out
