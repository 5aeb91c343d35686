"""Ultralytics YOLO: any weights file, or a model name that ultralytics downloads where a network exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_from_video.core.device import resolve_device
from reid_from_video.core.errors import InputError
from reid_from_video.detect.base import Detections, filter_detections
from reid_from_video.detect.config import DetectorConfig
from reid_from_video.detect.inputs import ultralytics_source
from reid_from_video.detect.weights import weights_problem

PERSON = 0  # COCO class id


class UltralyticsDetector:
    needs_pixels = True

    def __init__(self, config: DetectorConfig):
        from ultralytics import YOLO

        self.config = config
        self.device = resolve_device(config.device)
        self.half = config.half and self.device.startswith("cuda")
        weights = config.weights
        if not Path(weights).is_file() and ("/" in weights or "\\" in weights):
            # A path (not a bare model name that ultralytics could download) that does not exist.
            raise InputError(weights, "ultralytics weights file not found (detector.weights)")
        if not config.trust_weights:  # never hand ultralytics a pickle that would run code
            for place in ultralytics_source(weights)[0]:  # the files ultralytics would load for the name
                problem = weights_problem(place) if place.is_file() else None
                if problem is not None:
                    raise InputError(place, f"{problem}; if you trust this file: detector.trust_weights=true")
        try:
            self.model = YOLO(weights)
        except Exception as error:  # download failures surface as assorted exception types
            raise InputError(
                weights,
                f"cannot load the ultralytics model ({type(error).__name__}: {error}); a model name is "
                "downloaded and needs the network: offline, give the path of a weights file",
            ) from None

    def detect(self, frames: list[np.ndarray | None], indices: list[int]) -> list[Detections]:
        out: list[Detections] = []
        for start in range(0, len(frames), self.config.batch):
            results = self.model.predict(
                list(frames[start : start + self.config.batch]),
                classes=[PERSON],
                conf=self.config.score_min,
                iou=self.config.nms_iou if self.config.nms_iou is not None else 1.0,
                imgsz=self.config.input_size,
                device=self.device,
                half=self.half,
                verbose=False,
            )
            for result in results:
                xyxy = result.boxes.xyxy.cpu().numpy().astype(float)
                boxes = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
                scores = result.boxes.conf.cpu().numpy().astype(float)
                out.append(filter_detections(Detections(boxes, scores), self.config))
        return out
