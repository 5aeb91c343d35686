"""The ``detector`` config section: a plain dataclass (no OpenCV, no model library), so a stage's config and
``rfv --help`` stay light."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reid_from_video.core.config import option
from reid_from_video.core.runtime_options import (
    OnnxRuntime,
    OptimizationLevel,
    graph_optimization_option,
    spin_option,
    threads_option,
)

Backend = Literal["yolo", "yolox", "precomputed", "bgsub"]
# The default detector: an ultralytics model name, downloaded by ultralytics where a network exists.
DEFAULT_YOLO = "yolo11n.pt"


@dataclass
class DetectorConfig:
    """The ``detector`` section: which backend, its model, and the filters applied to every box."""

    backend: Backend = option(
        "yolo",
        "yolo (ultralytics; a YOLOX .onnx in weights is run by yolox), yolox (ONNX), precomputed (MOT det "
        "file), bgsub",
    )
    weights: str = option(
        DEFAULT_YOLO,
        "yolo: an ultralytics model name (downloaded where a network exists) or a weights file (a .pt "
        "whose pickle would import more than an ultralytics checkpoint needs, or a model .yaml, is refused: "
        "see trust_weights); yolox: an .onnx file such as yolox_nano.onnx",
    )
    trust_weights: bool = option(
        False,
        "yolo: load the weights file without checking its pickle (ultralytics unpickles .pt files, which can "
        "run code): only for a file you trust",
    )
    source: str = option(
        "{path}/det/det.txt",
        "precomputed: the det file of a camera; {path} is the camera's path, {name} its name. A deep_sort "
        ".npy detection file (frame,-1,x,y,w,h,score + features) works too",
    )
    device: str = option("auto", "yolo / yolox: auto (GPU when present), cpu, cuda, cuda:1")
    half: bool = option(True, "yolo: half precision on GPU (ignored on CPU)")
    batch: int = option(8, "frames per inference call")
    threads: int = threads_option("yolox")
    spin: bool = spin_option("yolox")
    graph_optimization: OptimizationLevel = graph_optimization_option("yolox")
    input_size: int = option(640, "yolo: inference size in pixels (yolox: taken from the ONNX model)")
    score_min: float = option(0.3, "drop boxes scoring below this")
    nms_iou: float | None = option(0.45, "non-maximum suppression IoU among persons; null: none")
    min_height: float = option(0.0, "drop boxes lower than this many pixels")
    min_width: float = option(0.0, "drop boxes narrower than this many pixels")
    aspect: tuple[float, float] = option([0.1, 1.5], "[min, max] width / height of a kept box")
    bg_history: int = option(500, "bgsub: frames in MOG2's background model")
    bg_var_threshold: float = option(16.0, "bgsub: MOG2 variance threshold (higher: less foreground)")
    bg_kernel: int = option(5, "bgsub: morphology kernel size in pixels (opening, then closing twice)")
    bg_min_area: float = option(400.0, "bgsub: smallest blob area in pixels")
    bg_join_height: int = option(
        0,
        "bgsub: also close the mask with a vertical line this many pixels high, joining the parts of a "
        "person broken where clothes match the background; 0: off",
    )
    bg_split_valley: float = option(
        0.0,
        "bgsub: split a blob at a column whose foreground height is below this fraction of the full-height "
        "columns on both sides (people side by side merged into one blob); 0: never split",
    )

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        OnnxRuntime.of(self)  # checks the runtime options
        if self.nms_iou is not None and not 0 < self.nms_iou <= 1:
            raise ValueError(f"nms_iou must be in (0, 1] or null, got {self.nms_iou}")
        if not 0 <= self.aspect[0] < self.aspect[1]:
            raise ValueError(f"aspect must be [min, max] with 0 <= min < max, got {list(self.aspect)}")
        if self.bg_join_height < 0:
            raise ValueError(f"bg_join_height must be >= 0, got {self.bg_join_height}")
        if not 0.0 <= self.bg_split_valley < 1.0:
            raise ValueError(f"bg_split_valley must be in [0, 1), got {self.bg_split_valley}")
