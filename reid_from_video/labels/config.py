"""The config of ``rfv label``."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.core.config import option, section
from reid_from_video.labels.quality import GT_SCOPES
from reid_from_video.labels.sstt import SsttConfig
from reid_from_video.labels.tmc import TmcConfig

METHODS = ("sstt", "tmc")
HISTOGRAM = "histogram"  # --model value: colour histograms of the crops, no model file


@dataclass
class LabelConfig:
    method: str = option("tmc", "sstt (TAUDL sparse space-time sampling) or tmc (isolation + association)")
    sstt: SsttConfig = section(SsttConfig, "TAUDL's sparse space-time tracklet sampling")
    sweep_periods: list[float] = option(
        [1.0, 2.0, 4.0, 8.0, 16.0], "sstt with gt: the duplication rate is also reported for these P (s)"
    )
    tmc: TmcConfig = section(TmcConfig, "TMC's intra-tracklet isolation and inter-tracklet association")
    gt_scope: str = option(
        "global", "identity of a gt id: global (one person across cameras) or camera (MOT sequences)"
    )
    batch_size: int = option(128, "crops per model call when features come from --model")
    device: str = option("auto", "where --model runs: auto, cpu, cuda, ...")

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.gt_scope not in GT_SCOPES:
            raise ValueError(f"gt_scope must be one of {GT_SCOPES}, not {self.gt_scope!r}")
