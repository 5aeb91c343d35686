"""Appearance embedders for the tracker: boxes of a frame in, L2-normalised feature rows out.

Backends (``embedder.backend``): ``none`` (motion only), ``onnx`` (a re-ID model, e.g. OSNet),
``torch`` (a TorchScript model), ``precomputed`` (deep_sort .npy detection files), ``histogram`` (colour
histograms, no model).
"""

from reid_from_video.embed.base import Embedder, EmbedderConfig
from reid_from_video.embed.registry import EMBEDDERS, build_embedder

__all__ = ["EMBEDDERS", "Embedder", "EmbedderConfig", "build_embedder"]
