"""The configs of ``rfv export`` and ``rfv embed``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reid_from_video.core.config import option
from reid_from_video.export.onnx import DEFAULT_OPSET

Format = Literal["torchscript", "onnx"]
FORMATS: tuple[Format, ...] = ("torchscript", "onnx")
MIN_COSINE = 0.9999  # the parity check: lowest cosine of any feature row
MAX_ABS_DIFF = 1e-3  # and largest absolute difference
CONFIG_FILE = "export_config.yaml"  # not config.yaml: the folder may be the training run's, which has one


@dataclass
class ExportConfig:
    """The ``rfv export`` settings."""

    format: str = option("both", f"what is written: {', '.join(FORMATS)} or both")
    name: str = option("model", "file stem: NAME.torchscript.pt, NAME.onnx (+ .json cards)")
    opset: int = option(DEFAULT_OPSET, "ONNX opset (17: IR version 8, read by onnxruntime >= 1.13)")
    freeze: bool = option(True, "TorchScript: torch.jit.freeze (weights inlined, BatchNorm folded)")
    batch: int = option(16, "parity check: number of crops")
    images: str | None = option(
        None, "parity check: a folder of crops or a tracklet store to take them from; null: synthetic crops"
    )
    seed: int = option(0, "parity check: seed of the synthetic crops")
    min_cosine: float = option(MIN_COSINE, "parity check: lowest cosine of any feature row")
    max_abs_diff: float = option(MAX_ABS_DIFF, "parity check: largest absolute difference")

    def __post_init__(self) -> None:
        if self.format not in (*FORMATS, "both"):
            raise ValueError(f"format must be one of {FORMATS} or both, not {self.format!r}")
        if not self.name or any(c in self.name for c in "/\\\0"):
            raise ValueError(f"name must be a file stem, got {self.name!r}")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if not 7 <= self.opset <= 25:
            raise ValueError(f"opset must be in 7..25, got {self.opset}")
        if not -1.0 <= self.min_cosine <= 1.0 or self.max_abs_diff < 0:
            raise ValueError("min_cosine must be in [-1, 1] and max_abs_diff >= 0")

    def formats(self) -> tuple[str, ...]:
        return FORMATS if self.format == "both" else (self.format,)


@dataclass
class EmbedConfig:
    """The ``rfv embed`` settings."""

    batch: int = option(64, "crops per inference call")
    device: str = option("auto", "auto (GPU when present), cpu, cuda")
    progress: bool = option(True, "a progress bar (crops/s)")

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
