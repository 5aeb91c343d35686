"""Embedder builders by backend name: ``EMBEDDERS[name](config, camera_path, camera_name)``.

``none`` builds nothing (None): the tracker then runs on motion alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reid_from_video.embed.base import Embedder, EmbedderConfig


def _model(config: EmbedderConfig, path: Path, name: str) -> Embedder:
    from reid_from_video.embed.model import ModelEmbedder

    return ModelEmbedder(config)


def _precomputed(config: EmbedderConfig, path: Path, name: str) -> Embedder:
    from reid_from_video.embed.precomputed import PrecomputedEmbedder

    return PrecomputedEmbedder(Path(config.source.format(path=path, name=name)))


def _histogram(config: EmbedderConfig, path: Path, name: str) -> Embedder:
    from reid_from_video.embed.histogram import HistogramEmbedder

    return HistogramEmbedder(config)


EMBEDDERS: dict[str, Callable[[EmbedderConfig, Path, str], Embedder]] = {
    # Both read by ReidModel, which tells the format from the file: ONNX, TorchScript or rfv train's model.pt.
    "onnx": _model,
    "torch": _model,
    "precomputed": _precomputed,
    "histogram": _histogram,
}


def build_embedder(config: EmbedderConfig, camera_path: Path, camera_name: str) -> Embedder | None:
    """The embedder of one camera, or None for ``backend: none``."""
    if config.backend == "none":
        return None
    return EMBEDDERS[config.backend](config, camera_path, camera_name)
