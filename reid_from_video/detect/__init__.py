"""Person detectors behind one interface: a batch of BGR frames in, per-frame boxes (x, y, w, h) + scores out.

Backends (``detector.backend``): ``yolo`` (ultralytics, the default: ``yolo11n.pt`` by name), ``yolox``
(YOLOX ONNX through onnxruntime), ``precomputed`` (MOTChallenge det files), ``bgsub`` (OpenCV MOG2 background
subtraction). Heavy libraries are imported by the backend that needs them, when it is built.
"""

from reid_from_video.detect.config import DetectorConfig
from reid_from_video.detect.registry import DETECTORS, build_detector

__all__ = ["DETECTORS", "DetectorConfig", "build_detector"]
