"""A re-ID model exported to ONNX (e.g. OSNet-x0.25 MSMT17: N x 3 x 256 x 128 RGB in, 512-d out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_from_video.detect.base import resolve_device
from reid_from_video.embed.base import EmbedderConfig, crop_batch, normalize_rows
from reid_from_video.errors import InputError


class OnnxEmbedder:
    needs_pixels = True

    def __init__(self, config: EmbedderConfig):
        import onnxruntime as ort

        path = Path(config.weights)
        if not path.is_file():
            raise InputError(path, "ONNX re-ID model not found (embedder.weights)")
        providers = ["CPUExecutionProvider"]
        if resolve_device(config.device).startswith("cuda"):
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(path), providers=providers)
        except Exception as error:  # onnxruntime raises its own untyped errors for bad files
            raise InputError(path, f"cannot load the ONNX model: {error}") from None
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        fixed = model_input.shape[0]
        self.batch = fixed if isinstance(fixed, int) else config.batch
        self.config = config

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros((0, 0))
        crops = crop_batch(image, boxes, self.config)
        parts = [
            self.session.run(None, {self.input_name: crops[i : i + self.batch]})[0]
            for i in range(0, len(crops), self.batch)
        ]
        return normalize_rows(np.concatenate(parts).reshape(len(crops), -1))
