"""The ``rfv associate`` config (light: no numpy, so ``rfv --help`` can describe it cheaply)."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.core.config import option


@dataclass
class TrackletFeatureConfig:
    """How a tracklet's feature is made: the mean of a few of its crops' features."""

    frames_per_tracklet: int = option(8, "frames embedded per tracklet, spread evenly; 0: all of them")
    batch_size: int = option(128, "crops per model call")
    device: str = option("auto", "where the model runs: auto, cpu, cuda")
    reuse_features: bool = option(True, "use the features rfv track stored when the same model made them")

    def __post_init__(self) -> None:
        if self.frames_per_tracklet < 0 or self.batch_size < 1:
            raise ValueError("frames_per_tracklet must be >= 0 and batch_size >= 1")


@dataclass
class SearchConfig(TrackletFeatureConfig):
    top: int = option(20, "tracklets listed, nearest first")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.top < 1:
            raise ValueError(f"top must be >= 1, got {self.top}")


@dataclass
class AssociateConfig(TrackletFeatureConfig):
    quantile: float = option(
        0.1,
        "the link threshold: this share of the pairs of tracklets known to be different people (two "
        "tracklets of one camera at the same time) is closer; lower links less (0.1: chosen on the "
        "synthetic world of seed 0)",
    )
    threshold: float | None = option(None, "a fixed link threshold (cosine distance) instead of the quantile")
    neighbours: int = option(20, "each tracklet's nearest tracklets considered for a link")
    centre_cameras: bool = option(
        True, "subtract each camera's mean feature first (its light and background no longer separate it)"
    )
    min_frames: int = option(1, "tracklets with fewer frames keep an identity of their own, unlinked")
    topology: str | None = option(
        None,
        "CSV of the walkways between cameras (camera_a, camera_b, least_seconds: the least time to walk "
        "from one to the other, 0 where the views overlap): tracklets of two cameras closer in time than "
        "the shortest walk, or of cameras no walkway joins, are never one person",
    )
    learn_transit: bool = option(
        False,
        "without a topology: learn the least time between each two cameras from confident links (a quarter "
        "of quantile), halved, and apply it; camera pairs seen linked fewer than 3 times keep no constraint",
    )
    max_identities: int = option(200, "identities.html: at most so many, those seen in most cameras first")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.quantile < 1.0:
            raise ValueError(f"quantile must be in (0, 1), got {self.quantile}")
        if self.threshold is not None and not 0.0 < self.threshold <= 2.0:
            raise ValueError(f"threshold must be a cosine distance in (0, 2], got {self.threshold}")
        if self.neighbours < 1 or self.min_frames < 1 or self.max_identities < 1:
            raise ValueError("neighbours, min_frames and max_identities must be >= 1")
