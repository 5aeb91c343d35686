"""The embedder interface and its config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from reid_from_video.core.config import option
from reid_from_video.core.runtime_options import (
    OnnxRuntime,
    OptimizationLevel,
    graph_optimization_option,
    spin_option,
    threads_option,
)

Backend = Literal["none", "onnx", "torch", "precomputed", "histogram"]


class Embedder(Protocol):
    """Features of the ``boxes`` (N, 4: x, y, w, h) of frame ``index``: (N, D) rows of unit length.

    ``image`` is the BGR frame, or None when :attr:`needs_pixels` is False (precomputed features).
    :attr:`identity` says what makes the features (:mod:`reid_from_video.embed.identity`), so that the
    tracklet store can keep them for ``rfv label``; None when the saved crop would not give them again
    (precomputed features; colour histograms, which JPEG encoding changes). :attr:`appearance_gate` is the
    gate calibrated for the model (its card's: :mod:`reid_from_video.embed.gate`); None where there is none.
    """

    needs_pixels: bool
    identity: dict[str, Any] | None
    appearance_gate: float | None

    def embed(self, image: np.ndarray | None, boxes: np.ndarray, index: int) -> np.ndarray: ...


@dataclass
class EmbedderConfig:
    """The ``embedder`` section."""

    backend: Backend = option("none", "none (motion only), onnx, torch (TorchScript), precomputed, histogram")
    weights: str = option(
        "",
        "onnx / torch: the model file, e.g. osnet_x0_25_msmt17.onnx (preprocessing from <file>.json, else "
        "RGB ImageNet at its input size)",
    )
    source: str = option(
        "{path}.npy", "precomputed: the deep_sort .npy file of a camera ({path}, {name} as for the detector)"
    )
    batch: int = option(32, "crops per inference call")
    threads: int = threads_option("onnx")
    spin: bool = spin_option("onnx")
    graph_optimization: OptimizationLevel = graph_optimization_option("onnx")
    parallel_frames: int = option(
        0,
        "onnx on the CPU: frames embedded at the same time, each call on `threads` threads; 0: automatic "
        "(when the stages overlap, as many as the camera's cores over `threads`, single-threaded calls "
        "unless `threads` is set; else 1)",
    )
    device: str = option("auto", "onnx / torch: auto (GPU when present), cpu, cuda")
    bins: int = option(8, "histogram: bins per HSV channel")
    calibrated_gate: bool = option(
        True,
        "onnx / torch: a model whose card has an appearance_gate (rfv train calibrates it on its cameras) "
        "gates matches with it instead of tracker.max_cosine_distance",
    )

    @staticmethod
    def from_shorthand(value: object) -> dict[str, str]:
        """``embedder=MODEL``: a model file (``.onnx``: onnx; else TorchScript or an ``rfv train`` model.pt:
        torch), or a backend without a file (``none``, ``histogram``)."""
        text = str(value)
        if text in ("none", "histogram"):
            return {"backend": text}
        return {"backend": "onnx" if text.lower().endswith(".onnx") else "torch", "weights": text}

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if self.parallel_frames < 0:
            raise ValueError(f"parallel_frames must be >= 0, got {self.parallel_frames}")
        OnnxRuntime.of(self)  # checks the runtime options
