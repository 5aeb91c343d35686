"""The config options of an ONNX model's runtime (threads, spin-waiting, graph optimization level), shared by
the detector's and the embedder's sections; light (no onnxruntime), as every config is."""

from __future__ import annotations

from typing import Any, Literal

from reid_from_video.core.config import option

OptimizationLevel = Literal["all", "extended", "basic"]


def threads_option(backend: str) -> Any:
    return option(0, f"{backend}: onnxruntime CPU threads; 0: one per core, shared among rfv track's workers")


def spin_option(backend: str) -> Any:
    return option(True, f"{backend}: idle onnxruntime threads spin-wait (rfv track's pipeline sets false)")


def graph_optimization_option(backend: str) -> Any:
    return option(
        "all",
        f"{backend}: onnxruntime's graph optimization level; the fastest depends on the network and the CPU "
        "(OSNet-x0.25 on the 2-core box: extended 1.4x all; YOLOX-nano: all 1.7x extended), outputs differ "
        "in the last digits",
    )
