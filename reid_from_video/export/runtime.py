"""One way to run a re-ID model file: ``ReidModel.load(path).embed(crops)`` -> L2-normalised features.

Formats: ONNX (``.onnx``, run by onnxruntime alone: no torch import) and TorchScript (``.pt``, ``.ts``,
``.torchscript``). A JSON model card beside the file (``<file>.json``) gives the preprocessing; without one,
the input size comes from the model's input shape when it is fixed (else 256 x 128) and the usual re-ID
preprocessing is assumed: RGB, scaled to 0..1, ImageNet mean and standard deviation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reid_from_video.detect.base import resolve_device
from reid_from_video.embed.base import normalize_rows
from reid_from_video.errors import InputError

log = logging.getLogger(__name__)

ONNX_SUFFIXES = (".onnx",)
TORCHSCRIPT_SUFFIXES = (".pt", ".ts", ".torchscript")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ModelCard:
    """How a model wants its input, and what it is. Written as JSON beside an exported model."""

    input_size: tuple[int, int] = (256, 128)  # height, width
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    colour: str = "RGB"  # channel order the model expects
    feature_dim: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # training method, data, metrics, ...

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(path, f"cannot read the model card: {error}") from None
        known = {k: data.pop(k) for k in list(data) if k in cls.__dataclass_fields__ and k != "extra"}
        try:
            card = cls(**known, extra=data)
            card.input_size = (int(card.input_size[0]), int(card.input_size[1]))
        except (TypeError, ValueError, IndexError) as error:
            raise InputError(path, f"bad model card: {error}") from None
        if card.colour not in ("RGB", "BGR"):
            raise InputError(path, f"colour must be RGB or BGR, not {card.colour!r}")
        return card


def card_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


class ReidModel:
    """A loaded re-ID model: ``embed(crops)`` takes BGR uint8 crops of any size (OpenCV's layout)."""

    def __init__(self, path: Path, card: ModelCard, run_batch: Any, fixed_batch: int | None, device: str):
        self.path = path
        self.card = card
        self._run = run_batch
        self._fixed_batch = fixed_batch
        self.device = device

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> ReidModel:
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "model file not found")
        card = ModelCard.read(card_path(path)) if card_path(path).is_file() else None
        suffix = path.suffix.lower()
        if suffix in ONNX_SUFFIXES:
            return _load_onnx(path, card, device)
        if suffix in TORCHSCRIPT_SUFFIXES:
            return _load_torchscript(path, card, device)
        raise InputError(path, f"unknown model format {suffix!r}: expected .onnx or TorchScript (.pt, .ts)")

    def preprocess(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """N x 3 x H x W float32: resized, channel order, scaled, normalised."""
        height, width = self.card.input_size
        batch = np.empty((len(crops), height, width, 3), np.float32)
        for i, crop in enumerate(crops):
            if not (isinstance(crop, np.ndarray) and crop.ndim == 3 and crop.shape[2] == 3):
                shape = getattr(crop, "shape", None)
                raise ValueError(f"crop {i}: expected an H x W x 3 BGR image, got shape {shape}")
            if crop.dtype != np.uint8:
                raise ValueError(f"crop {i}: expected uint8 pixels, got {crop.dtype}")
            if crop.shape[0] == 0 or crop.shape[1] == 0:
                raise ValueError(f"crop {i}: empty image {crop.shape}")
            batch[i] = cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR)
        if self.card.colour == "RGB":
            batch = batch[..., ::-1]
        batch = (batch / 255.0 - np.array(self.card.mean, np.float32)) / np.array(self.card.std, np.float32)
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)

    def embed(self, crops: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
        """L2-normalised features, one row per crop (float32)."""
        if len(crops) == 0:
            return np.zeros((0, self.card.feature_dim or 0), np.float32)
        step = self._fixed_batch or batch_size
        rows = []
        for start in range(0, len(crops), step):
            chunk = self.preprocess(crops[start : start + step])
            if self._fixed_batch and len(chunk) < self._fixed_batch:  # a fixed-batch model: pad the last one
                pad = np.zeros((self._fixed_batch - len(chunk), *chunk.shape[1:]), np.float32)
                rows.append(self._run(np.concatenate([chunk, pad]))[: len(chunk)])
            else:
                rows.append(self._run(chunk))
        return normalize_rows(np.concatenate(rows).reshape(len(crops), -1)).astype(np.float32)


def _load_onnx(path: Path, card: ModelCard | None, device: str) -> ReidModel:
    import onnxruntime as ort

    available = ort.get_available_providers()
    wants_gpu = device == "auto" or device.startswith("cuda")
    providers = ["CUDAExecutionProvider"] if wants_gpu and "CUDAExecutionProvider" in available else []
    if device.startswith("cuda") and not providers:
        log.warning("%s: onnxruntime has no CUDA provider here; running on CPU", path)
    try:
        session = ort.InferenceSession(str(path), providers=[*providers, "CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        raise InputError(path, f"cannot load as an ONNX model: {error}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise InputError(path, f"expected one N x 3 x H x W input, found {[i.shape for i in inputs]}")
    shape = inputs[0].shape
    if card is None:
        size = (shape[2], shape[3]) if all(isinstance(s, int) for s in shape[2:]) else (256, 128)
        card = ModelCard(input_size=size)
    fixed = shape[0] if isinstance(shape[0], int) else None
    name = inputs[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {name: batch})[0]

    used = "cuda" if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
    return ReidModel(path, card, run, fixed, used)


def _load_torchscript(path: Path, card: ModelCard | None, device: str) -> ReidModel:
    import torch

    target = resolve_device(device)
    try:
        module = torch.jit.load(str(path), map_location=target).eval()
    except (RuntimeError, ValueError) as error:
        raise InputError(path, f"cannot load as a TorchScript model: {error}") from None
    card = card or ModelCard()

    @torch.inference_mode()
    def run(batch: np.ndarray) -> np.ndarray:
        return module(torch.from_numpy(batch).to(target)).float().cpu().numpy()

    return ReidModel(path, card, run, None, target)
