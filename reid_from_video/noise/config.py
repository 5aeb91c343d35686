"""The configs of ``rfv mot-eval`` and ``rfv simulate`` (light: no pandas, so ``rfv --help`` can describe
them cheaply)."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.core.config import option

CLEAR_SEMANTICS = ("trackeval", "motmetrics")
CROSS_CAMERA = ("off", "global", "per_camera")


@dataclass
class MotEvalConfig:
    seqs: list[str] = option([], "sequences to evaluate (default: every gt sequence that has a result file)")
    iou: float = option(0.5, "IoU threshold of a match, for every metric")
    preprocess: bool = option(True, "MOTChallenge preprocessing: score pedestrians, drop distractor matches")
    min_frames: int = option(
        1, "rFM/rSW: an id joins a tracklet's Q_i only if matched in >= this many frames"
    )
    min_visibility: float = option(
        0.0,
        "gt boxes with a known visibility below this become distractors: not scored, and tracker boxes "
        "matched to them are removed (0: MOTChallenge, every consider=1 pedestrian is scored)",
    )
    clear: str = option(
        "trackeval",
        "CLEAR MOT counting: trackeval (MOTChallenge's official evaluator: only the previous frame's match "
        "is kept, MT above 0.8) or motmetrics (a match kept across gaps, MT from 0.8)",
    )
    cross_camera: str = option(
        "off",
        "the sequences are one network's cameras and the gt ids are global: also score identity across "
        "cameras (multi-camera IDF1, cross-camera rFM / rSW) with the result ids global, or per_camera "
        "(each camera's tracks distinct identities); off: not scored",
    )
    hota: bool = option(True, "compute HOTA / DetA / AssA")
    plots: bool = option(True, "write histograms.png (|Q_i| and tracklets per id, per sequence)")

    def __post_init__(self) -> None:
        if not 0.0 < self.iou <= 1.0:
            raise ValueError(f"iou must be in (0, 1], got {self.iou}")
        if self.cross_camera not in CROSS_CAMERA:
            raise ValueError(f"cross_camera must be one of {CROSS_CAMERA}, not {self.cross_camera!r}")
        if self.clear not in CLEAR_SEMANTICS:
            raise ValueError(f"clear must be one of {CLEAR_SEMANTICS}, not {self.clear!r}")
        if self.min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {self.min_frames}")
        if not 0.0 <= self.min_visibility <= 1.0:
            raise ValueError(f"min_visibility must be in [0, 1], got {self.min_visibility}")
        if self.min_visibility > 0 and not self.preprocess:
            raise ValueError("min_visibility needs preprocess=true (it marks gt boxes as distractors)")


@dataclass
class SimulateConfig:
    rfm: float = option(1.7, "target rate of fragmentation: noisy tracklets per identity (per camera), >= 1")
    rsw: float = option(1.2, "target rate of switch: identities per noisy tracklet, >= 1")
    split: str = option("train", "the MARS split to simulate from: train or test")
    q_histogram: str | None = option(
        None,
        "a |Q_i| histogram JSON (q_histogram.json of `rfv mot-eval`) giving the shape of the identities-per-"
        "tracklet distribution, tilted to mean rsw; null: 1 + Poisson(rsw - 1)",
    )
    max_ids_per_tracklet: int = option(8, "largest |Q_i| drawn (a tracklet never holds more identities)")
    seed: int = option(0, "random seed: the same seed gives the same tracklets")
