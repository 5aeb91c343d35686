"""Settings of the DeepSORT tracker, with the paper's values as defaults.

A plain dataclass (no dependency on the application): ``reid_from_video`` uses it as the ``tracker``
section of its configs, whose loader reads the ``help`` metadata for ``--help``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class DeepSortConfig:
    """DeepSORT (Wojke et al. 2017) parameters; defaults are the paper's and nwojke/deep_sort's."""

    max_cosine_distance: float = _option(0.2, "appearance gate: largest cosine distance of a match")
    nn_budget: int | None = _option(100, "features kept per track in its appearance gallery (null: all)")
    max_iou_distance: float = _option(0.7, "IoU stage: largest 1 - IoU of a match")
    max_age: int = _option(30, "frames a track survives without a detection (at reference_fps)")
    n_init: int = _option(3, "consecutive detections before a track is confirmed")
    reference_fps: float | None = _option(
        None, "frame rate max_age is meant for; with a camera fps given, max_age scales by fps / this"
    )
    gating_dof: Literal[2, 4] = _option(
        4, "Mahalanobis gate on 4 (cx, cy, a, h) or 2 (cx, cy) degrees of freedom, chi-square 95%"
    )
    lambda_motion: float = _option(
        0.0, "weight of the Mahalanobis distance in the cascade cost (paper: 0, appearance only)"
    )
    matching: Literal["cascade", "global"] = _option(
        "cascade",
        "appearance matching of confirmed tracks: DeepSORT's cascade (most recently seen first) or one "
        "global assignment over all of them (StrongSORT's 'vanilla matching')",
    )
    appearance_memory: Literal["gallery", "ema"] = _option(
        "gallery",
        "a track's appearance: its last nn_budget features, nearest one counts (DeepSORT), or one "
        "exponential moving average of them (StrongSORT's EMA)",
    )
    ema_alpha: float = _option(
        0.9, "appearance_memory=ema: weight of the track's feature against the new one"
    )
    nsa_kalman: bool = _option(
        False, "StrongSORT's NSA Kalman: scale the measurement noise by (1 - detection score)"
    )
    motion_metric: Literal["iou", "mahalanobis"] = _option(
        "iou", "cascade cost when there are no appearance features: 1 - IoU (gated) or Mahalanobis / gate"
    )
    std_weight_position: float = _option(1.0 / 20, "Kalman noise: position std as a fraction of height")
    std_weight_velocity: float = _option(1.0 / 160, "Kalman noise: velocity std as a fraction of height")
    low_score: float | None = _option(
        None,
        "ByteTrack-style second association: detections scoring below this are only matched (by IoU) to "
        "tracks left unmatched by the first stages and never start tracks; null: off",
    )
    low_iou_distance: float = _option(0.5, "second association: largest 1 - IoU of a match")
    output_missed: int = _option(
        0, "also report confirmed tracks missed for up to this many frames (their predicted box)"
    )
    output_tentative: bool = _option(
        False,
        "also report tentative tracks matched in the frame (flagged), so that a writer can back-fill a "
        "track's first n_init - 1 frames once it is confirmed",
    )

    def __post_init__(self) -> None:
        if self.n_init < 1 or self.max_age < 1:
            raise ValueError("n_init and max_age must be >= 1")
        if self.nn_budget is not None and self.nn_budget < 1:
            raise ValueError(f"nn_budget must be >= 1 or null, got {self.nn_budget}")
        for name in ("max_cosine_distance", "max_iou_distance", "low_iou_distance"):
            if not 0 <= getattr(self, name) <= 2:
                raise ValueError(f"{name} must be in [0, 2], got {getattr(self, name)}")
        if not 0 <= self.ema_alpha < 1:
            raise ValueError(f"ema_alpha must be in [0, 1), got {self.ema_alpha}")
        if not 0 <= self.lambda_motion <= 1:
            raise ValueError(f"lambda_motion must be in [0, 1], got {self.lambda_motion}")
        if self.reference_fps is not None and self.reference_fps <= 0:
            raise ValueError(f"reference_fps must be positive, got {self.reference_fps}")

    def max_age_at(self, fps: float | None) -> int:
        """max_age in frames for a camera at ``fps`` (unchanged without both frame rates)."""
        if fps is None or self.reference_fps is None:
            return self.max_age
        return max(1, round(self.max_age * fps / self.reference_fps))
