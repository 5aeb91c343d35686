"""The config options of an ONNX model's runtime (threads, spin-waiting, graph optimization level), shared by
the detector's and the embedder's sections; light (no onnxruntime), as every config is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from reid_from_video.core.config import option

OptimizationLevel = Literal["all", "extended", "basic"]


@dataclass(frozen=True)
class OnnxRuntime:
    """How onnxruntime runs a model on the CPU: ``threads`` (0: one per core), whether idle threads
    ``spin``-wait, and the graph ``optimization`` level."""

    threads: int = 0
    spin: bool = True
    optimization: OptimizationLevel = "all"

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0, got {self.threads}")

    @classmethod
    def of(cls, section: Any) -> OnnxRuntime:
        """The settings of a config section with the options below (the detector's, the embedder's)."""
        return cls(section.threads, section.spin, section.graph_optimization)


def threads_option(backend: str) -> Any:
    return option(0, f"{backend}: onnxruntime CPU threads; 0: one per core, shared among rfv track's workers")


def spin_option(backend: str) -> Any:
    return option(True, f"{backend}: idle onnxruntime threads spin-wait (rfv track's pipeline sets false)")


def graph_optimization_option(backend: str) -> Any:
    return option(
        "all",
        f"{backend}: onnxruntime's graph optimization level; the fastest depends on the network and the CPU "
        "(README: OSNet-x0.25 ran 1.4x faster with extended on one 2-core box and 2x slower on another; "
        "YOLOX-nano 1.7x faster with all), outputs differ in the last digits",
    )
