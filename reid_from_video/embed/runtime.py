"""One way to run a re-ID model file: ``ReidModel.load(path).embed(crops)`` -> L2-normalised features.

Formats, told apart by suffix and content:

* ONNX (``.onnx``): run by onnxruntime, torch not needed (a deployment needs only onnxruntime, numpy and
  OpenCV); on a GPU without onnxruntime's CUDA provider, through torch (see
  :mod:`reid_from_video.core.onnx_session`);
* TorchScript (``.pt``, ``.pth``, ``.ts``, ``.torchscript``: a zip with ``code/`` and ``constants.pkl``);
* a model file of ``rfv train`` (``model.pt``, or the training state ``checkpoint.pt``), read with
  ``torch.load(weights_only=True)`` and rebuilt as the PyTorch network without its classifier.

A JSON model card beside the file (``<file>.json``, see :mod:`reid_from_video.embed.card`) gives the
preprocessing; a checkpoint carries its own (its model config). Without either, the input size comes from
the model's input shape when it is fixed (else 256 x 128) and the usual re-ID preprocessing is assumed: RGB,
scaled to 0..1, ImageNet mean and standard deviation.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reid_from_video.core.device import resolve_device
from reid_from_video.core.distances import normalize_rows
from reid_from_video.core.errors import InputError
from reid_from_video.core.runtime_options import OnnxRuntime
from reid_from_video.embed.card import IMAGENET_MEAN, IMAGENET_STD, ModelCard, card_path

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "ModelCard", "ReidModel", "card_path"]

log = logging.getLogger(__name__)

ONNX_SUFFIXES = (".onnx",)
TORCH_SUFFIXES = (".pt", ".pth", ".ts", ".torchscript")  # TorchScript or an rfv train model file
TORCHSCRIPT_SUFFIXES = TORCH_SUFFIXES
RunBatch = Callable[[np.ndarray], np.ndarray]


class ReidModel:
    """A loaded re-ID model: ``embed(crops)`` takes BGR uint8 crops of any size (OpenCV's layout).

    ``format`` is ``onnx``, ``torchscript`` or ``checkpoint``; ``device`` where it runs (``cpu``, ``cuda``).
    """

    def __init__(
        self,
        path: Path,
        card: ModelCard,
        run_batch: RunBatch,
        fixed_batch: int | None,
        device: str,
        format: str = "onnx",
    ):
        self.path = path
        self.card = card
        self._run = run_batch
        self._fixed_batch = fixed_batch
        self.device = device
        self.format = format

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str = "auto",
        card: ModelCard | None = None,
        runtime: OnnxRuntime | None = None,
    ) -> ReidModel:
        """The model in ``path`` on ``device`` (``auto``: a GPU when present). ``card`` overrides the card
        beside the file (and a checkpoint's own preprocessing); ``runtime``: how onnxruntime runs an ONNX
        file on the CPU (default: a thread per core; torch's threads are set process-wide by
        ``torch.set_num_threads``)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(path, "model file not found")
        if card is None and card_path(path).is_file():
            card = ModelCard.read(card_path(path))
        suffix = path.suffix.lower()
        if suffix in ONNX_SUFFIXES:
            return _load_onnx(path, card, device, runtime)
        if suffix in TORCH_SUFFIXES:
            from reid_from_video.embed.source import is_torchscript

            if is_torchscript(path):
                return _load_torchscript(path, card, device)
            return _load_checkpoint(path, card, device)
        raise InputError(
            path, f"unknown model format {suffix!r}: expected .onnx, TorchScript or an rfv train model (.pt)"
        )

    @classmethod
    def from_torch(
        cls,
        module: Any,
        card: ModelCard,
        device: str = "cpu",
        path: Path | None = None,
        format: str = "torch",
    ) -> ReidModel:
        """A PyTorch module (eval mode; ``N x 3 x H x W`` -> ``N x D``) behind the same API."""
        target = resolve_device(device)
        module = module.to(target).eval()
        run = _torch_runner(module, target)
        return cls(path or Path(f"<{type(module).__name__}>"), card, run, None, target, format)

    def preprocess(self, crops: Sequence[np.ndarray]) -> np.ndarray:
        """N x 3 x H x W float32: resized (bilinear), channel order, scaled to 0..1, normalised."""
        height, width = self.card.input_size
        pixels = np.empty((len(crops), height, width, 3), np.uint8)
        for i, crop in enumerate(crops):
            if not (isinstance(crop, np.ndarray) and crop.ndim == 3 and crop.shape[2] == 3):
                shape = getattr(crop, "shape", None)
                raise ValueError(f"crop {i}: expected an H x W x 3 BGR image, got shape {shape}")
            if crop.dtype != np.uint8:
                raise ValueError(f"crop {i}: expected uint8 pixels, got {crop.dtype}")
            if crop.shape[0] == 0 or crop.shape[1] == 0:
                raise ValueError(f"crop {i}: empty image {crop.shape}")
            pixels[i] = cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR)
        if self.card.colour == "RGB":
            pixels = pixels[..., ::-1]
        # (x / 255 - mean) / std as one multiply-add, written straight into the N x C x H x W layout.
        std = np.asarray(self.card.std, np.float32)
        scale = (1.0 / (255.0 * std)).reshape(3, 1, 1)
        shift = (np.asarray(self.card.mean, np.float32) / std).reshape(3, 1, 1)
        batch = np.empty((len(crops), 3, height, width), np.float32)
        np.multiply(pixels.transpose(0, 3, 1, 2), scale, out=batch)
        np.subtract(batch, shift, out=batch)
        return batch

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
                out = self._checked(self._run(np.concatenate([chunk, pad])), self._fixed_batch)
                rows.append(out[: len(chunk)])
            else:
                rows.append(self._checked(self._run(chunk), len(chunk)))
        features = np.concatenate(rows)
        if self.card.feature_dim and features.shape[1] != self.card.feature_dim:
            raise InputError(
                self.path, f"gives {features.shape[1]}-d features; its card says {self.card.feature_dim}"
            )
        return normalize_rows(features).astype(np.float32)

    def _checked(self, out: np.ndarray, count: int) -> np.ndarray:
        """The model's output for ``count`` crops as ``count x D`` features; an :class:`InputError` naming
        the model file when it is not one finite feature row per crop (every embedder runs through here)."""
        out = np.asarray(out)
        if out.ndim > 2 and all(size == 1 for size in out.shape[2:]):
            out = out.reshape(out.shape[:2])  # N x D x 1 x 1: a pooled map, one feature per crop
        if out.ndim != 2 or out.shape[0] != count:
            raise InputError(
                self.path,
                f"gives outputs of shape {list(out.shape)} for {count} crops; expected {count} x D features, "
                "one row per crop (a feature map, not a re-ID embedding?)",
            )
        if not np.issubdtype(out.dtype, np.floating):
            raise InputError(self.path, f"gives {out.dtype} outputs; expected float features")
        bad = int((~np.isfinite(out)).any(axis=1).sum())
        if bad:
            raise InputError(
                self.path,
                f"gives NaN or infinite features for {bad} of {count} crops: its weights or graph are "
                "broken (a model that diverged in training?)",
            )
        return out


def _load_onnx(
    path: Path,
    card: ModelCard | None,
    device: str,
    runtime: OnnxRuntime | None = None,
) -> ReidModel:
    from reid_from_video.core.onnx_session import open_onnx

    model = open_onnx(path, device, runtime)
    shape = model.input_shape
    if len(shape) != 4 or shape[1] not in (3, "C", None):
        raise InputError(path, f"expected one N x 3 x H x W input, found {list(shape)}")
    if model.input_type != "tensor(float)":
        raise InputError(path, f"expected a float32 input, found {model.input_type}")
    if card is None:
        size = (shape[2], shape[3]) if all(isinstance(s, int) for s in shape[2:]) else (256, 128)
        card = ModelCard(input_size=size)
    return ReidModel(path, card, model.run, model.batch, model.device, "onnx")


def _load_torchscript(path: Path, card: ModelCard | None, device: str) -> ReidModel:
    import torch

    target = resolve_device(device)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch >= 2.9 marks torch.jit deprecated
            module = torch.jit.load(str(path), map_location=target).eval()
    except (RuntimeError, ValueError) as error:
        raise InputError(path, f"cannot load as a TorchScript model: {error}") from None
    return ReidModel(path, card or ModelCard(), _torch_runner(module, target), None, target, "torchscript")


def _load_checkpoint(path: Path, card: ModelCard | None, device: str) -> ReidModel:
    from reid_from_video.embed.source import read_source

    try:
        source = read_source(path)
    except InputError as error:
        problem = f"not a TorchScript model, nor a model file of rfv train: {error.problem}"
        raise InputError(path, problem) from None
    card = card or source.card(format="checkpoint", training=source.training)
    return ReidModel.from_torch(source.model, card, device, path, "checkpoint")


def _torch_runner(module: Any, target: str) -> RunBatch:
    import torch

    @torch.no_grad()
    def run(batch: np.ndarray) -> np.ndarray:
        return module(torch.from_numpy(batch).to(target)).float().cpu().numpy()

    return run
