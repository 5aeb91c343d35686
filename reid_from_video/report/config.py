"""The config of ``rfv report`` (plain dataclasses: the CLI loads it without the page's heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.core.config import option, section

REPORT_FILE = "report.html"


@dataclass
class MontageConfig:
    labels: int = option(6, "labels shown in the montage")
    tracklets: int = option(4, "tracklets shown per label (different cameras first)")
    frames: int = option(4, "crops shown per tracklet, spread evenly over it")
    height: int = option(96, "crop height in the page, pixels (larger crops are shrunk to it when embedded)")

    def __post_init__(self) -> None:
        for name in ("labels", "tracklets", "frames", "height"):
            if getattr(self, name) < 1:
                raise ValueError(f"montage.{name} must be >= 1, got {getattr(self, name)}")


@dataclass
class ReportConfig:
    montage: MontageConfig = section(MontageConfig, "the montage of sample tracklets per label")
