"""A TorchScript re-ID model (e.g. this project's exported model), on GPU when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_from_video.detect.base import resolve_device
from reid_from_video.embed.base import EmbedderConfig, crop_batch, normalize_rows
from reid_from_video.errors import InputError


class TorchScriptEmbedder:
    needs_pixels = True

    def __init__(self, config: EmbedderConfig):
        import torch

        path = Path(config.weights)
        if not path.is_file():
            raise InputError(path, "TorchScript model not found (embedder.weights)")
        self.device = torch.device(resolve_device(config.device))
        try:
            self.model = torch.jit.load(str(path), map_location=self.device).eval()
        except (RuntimeError, ValueError) as error:
            raise InputError(path, f"cannot load the TorchScript model: {error}") from None
        self.config = config
        self.torch = torch

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray:
        if len(boxes) == 0:
            return np.zeros((0, 0))
        crops = crop_batch(image, boxes, self.config)
        parts = []
        with self.torch.inference_mode():
            for i in range(0, len(crops), self.config.batch):
                batch = self.torch.from_numpy(crops[i : i + self.config.batch]).to(self.device)
                parts.append(self.model(batch).float().cpu().numpy())
        return normalize_rows(np.concatenate(parts).reshape(len(crops), -1))
