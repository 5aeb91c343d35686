"""Detector builders by backend name: ``DETECTORS[name](config, camera_path, camera_name) -> Detector``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from reid_from_video.detect.config import DetectorConfig
from reid_from_video.detect.family import with_onnx_backend

if TYPE_CHECKING:  # the backends import OpenCV and model libraries: only when one is built
    from reid_from_video.detect.base import Detector


def _yolo(config: DetectorConfig, path: Path, name: str) -> Detector:
    from reid_from_video.detect.yolo import UltralyticsDetector

    return UltralyticsDetector(config)


def _yolox(config: DetectorConfig, path: Path, name: str) -> Detector:
    from reid_from_video.detect.yolox import YoloxOnnxDetector

    return YoloxOnnxDetector(config)


def _precomputed(config: DetectorConfig, path: Path, name: str) -> Detector:
    from reid_from_video.detect.precomputed import PrecomputedDetector

    return PrecomputedDetector(Path(config.source.format(path=path, name=name)), config)


def _bgsub(config: DetectorConfig, path: Path, name: str) -> Detector:
    from reid_from_video.detect.bgsub import BackgroundSubtractionDetector

    return BackgroundSubtractionDetector(config)


DETECTORS: dict[str, Callable[[DetectorConfig, Path, str], Detector]] = {
    "yolo": _yolo,
    "yolox": _yolox,
    "precomputed": _precomputed,
    "bgsub": _bgsub,
}

PIXEL_FREE = ("precomputed",)
"""Backends that need no frames (a MOT17 tree without images can be tracked)."""


def build_detector(config: DetectorConfig, camera_path: Path, camera_name: str) -> Detector:
    """The detector of one camera (stateful backends need one per camera)."""
    config = with_onnx_backend(config)  # a YOLOX .onnx given to the default backend
    return DETECTORS[config.backend](config, camera_path, camera_name)
