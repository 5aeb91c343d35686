"""The embedder interface, its config, and the crop batching the model backends share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import cv2
import numpy as np

from reid_from_video.config import option

Backend = Literal["none", "onnx", "torch", "precomputed", "histogram"]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Embedder(Protocol):
    """Features of the ``boxes`` (N, 4: x, y, w, h) of frame ``index``: (N, D) rows of unit length.

    ``image`` is the BGR frame, or None when :attr:`needs_pixels` is False (precomputed features).
    """

    needs_pixels: bool

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray: ...


@dataclass
class EmbedderConfig:
    """The ``embedder`` section."""

    backend: Backend = option("none", "none (motion only), onnx, torch (TorchScript), precomputed, histogram")
    weights: str = option("../shared/data/models/osnet_x0_25_msmt17.onnx", "onnx / torch: the model file")
    source: str = option(
        "{path}.npy", "precomputed: the deep_sort .npy file of a camera ({path}, {name} as for the detector)"
    )
    input_size: tuple[int, int] = option([128, 256], "crop [width, height] fed to the model")
    mean: tuple[float, float, float] = option(list(IMAGENET_MEAN), "RGB mean of the model's normalisation")
    std: tuple[float, float, float] = option(list(IMAGENET_STD), "RGB std of the model's normalisation")
    batch: int = option(32, "crops per inference call")
    device: str = option("auto", "onnx / torch: auto (GPU when present), cpu, cuda")
    bins: int = option(8, "histogram: bins per HSV channel")

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")


def normalize_rows(features: np.ndarray) -> np.ndarray:
    """Unit-length rows (a zero row stays zero)."""
    features = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


def crop_batch(image: np.ndarray, boxes: np.ndarray, config: EmbedderConfig) -> np.ndarray:
    """(N, 3, H, W) float32 model input: each box cut (clipped), resized, BGR -> RGB, mean/std normalised."""
    width, height = config.input_size
    out = np.zeros((len(boxes), 3, height, width), dtype=np.float32)
    mean = np.array(config.mean, np.float32) * 255
    std = np.array(config.std, np.float32) * 255
    img_h, img_w = image.shape[:2]
    for i, (x, y, w, h) in enumerate(boxes):
        x0, y0 = max(int(x), 0), max(int(y), 0)
        x1, y1 = min(int(np.ceil(x + w)), img_w), min(int(np.ceil(y + h)), img_h)
        if x1 <= x0 or y1 <= y0:
            continue  # box outside the image: a zero input (its feature carries no appearance)
        patch = cv2.resize(image[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_LINEAR)
        rgb = patch[:, :, ::-1].astype(np.float32)
        out[i] = ((rgb - mean) / std).transpose(2, 0, 1)
    return out
