"""The config sections of the readers and writers (``video``, ``crops``) and of ``rfv inspect``: plain
dataclasses, so a stage's config (and ``rfv --help``) never imports OpenCV or pandas for them."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from reid_from_video.core.config import option, section


@dataclass
class VideoConfig:
    """How cameras are read: the ``video`` section of a stage's config."""

    fps: float | None = option(None, "frame rate of cameras that state none (image folders without sidecar)")
    stride: int = option(1, "keep every k-th frame")
    start_s: float | None = option(None, "first time to read, seconds on the camera clock (inclusive)")
    end_s: float | None = option(None, "time to stop reading, seconds on the camera clock (exclusive)")

    def __post_init__(self) -> None:
        check_fps(self.fps)
        check_selection(self.stride, self.start_s, self.end_s)


FPS_RANGE = (1e-3, 1e4)
"""Frame rates a camera can have (a frame every 1000 s to 10000 frames a second); others are typos."""


def check_fps(fps: object) -> None:
    problem = fps_problem(fps)
    if fps is not None and problem:
        raise ValueError(problem)


def fps_problem(fps: object) -> str | None:
    """What is wrong with ``fps`` as a frame rate, or None."""
    if not (is_number(fps) and math.isfinite(fps) and fps > 0):
        return f"fps must be a positive number, got {fps!r}"
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        return f"fps {fps!r} is not a camera's frame rate (expected {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g})"
    return None


def check_selection(stride: object, start_s: object, end_s: object) -> None:
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral) or stride < 1:
        raise ValueError(f"stride must be an integer >= 1, got {stride!r}")
    for name, bound in (("start_s", start_s), ("end_s", end_s)):
        if bound is not None and not (is_number(bound) and not math.isnan(bound)):
            raise ValueError(f"{name} must be a number of seconds, got {bound!r}")
    if start_s is not None and end_s is not None and not start_s < end_s:
        raise ValueError(f"start_s must be before end_s, got start_s={start_s} and end_s={end_s}")


def is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass
class CropConfig:
    """How crops are cut from frames and saved."""

    padding: float = option(0.0, "extra margin on each side, as a fraction of the box width / height")
    size: tuple[int, int] | None = option(
        None, "[width, height] to resize crops to; null keeps the native size"
    )
    min_height: int = option(16, "crops lower than this many pixels (after clipping) are not saved")
    every: int = option(1, "keep every k-th crop of each track (the first one always)")
    jpeg_quality: int = option(95, "JPEG quality of saved crops, 1..100")

    def __post_init__(self) -> None:
        if self.padding < 0:
            raise ValueError(f"padding must be >= 0, got {self.padding}")
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {self.every}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be in 1..100, got {self.jpeg_quality}")
        if self.size is not None and min(self.size) < 1:
            raise ValueError(f"size must be positive, got {self.size}")


@dataclass
class InspectConfig:
    video: VideoConfig = section(VideoConfig, "how cameras are read")
    decode: bool = option(False, "decode every frame (with video.stride) and count corrupt frames")
