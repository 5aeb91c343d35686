"""What the detector reads, checked before tracking starts (see :mod:`reid_from_video.core.inputs`).

* ``yolo``: a weights file, or a model name that ultralytics downloads (``yolo11n.pt``): found in the
  working folder or ultralytics' weights folder, else its download server must answer.
* ``yolox``: an ONNX file.
* ``precomputed``'s files are per camera and ``bgsub`` reads none: they are checked as each camera starts.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from reid_from_video.core.errors import MissingInput
from reid_from_video.core.inputs import missing_file, reachable
from reid_from_video.detect.config import DEFAULT_YOLO, DetectorConfig
from reid_from_video.detect.family import with_onnx_backend
from reid_from_video.detect.weights import weights_problem

YOLOX_ONNX = "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx"


def ultralytics_source(name: str) -> tuple[list[Path], str | None]:
    """Where ultralytics looks for the model ``name`` (the working folder, its weights folder) and the URL
    it downloads it from; None: not a name ultralytics knows."""
    from ultralytics.utils import SETTINGS
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES, GITHUB_ASSETS_REPO, attempt_download_asset

    places = [Path(name), Path(SETTINGS["weights_dir"]) / name]
    if name not in GITHUB_ASSETS_NAMES:
        return places, None
    release = inspect.signature(attempt_download_asset).parameters["release"].default
    return places, f"https://github.com/{GITHUB_ASSETS_REPO}/releases/download/{release}/{name}"


def unsafe_weights(config: DetectorConfig, path: Path, prefix: str = "") -> list[MissingInput]:
    """``path`` (the file ultralytics would load for ``detector.weights``) as a refused input when its pickle
    would import more than an ultralytics checkpoint needs, unless ``detector.trust_weights``."""
    problem = None if config.trust_weights else weights_problem(path)
    if problem is None:
        return []
    key = f"{prefix}detector.weights"
    remedy = (
        f"Give weights from a source you know; if you trust this file: {prefix}detector.trust_weights=true"
    )
    return [MissingInput(key, str(path), problem, remedy)]


def detector_inputs(config: DetectorConfig, prefix: str = "") -> list[MissingInput]:
    """The detector's missing inputs, under the keys ``{prefix}detector.*``."""
    key = f"{prefix}detector.weights"
    config = with_onnx_backend(config)  # a YOLOX .onnx given to the default backend is checked as one
    yolox = f"or the YOLOX ONNX detector: {prefix}detector.weights=PATH/yolox_nano.onnx ({YOLOX_ONNX})"
    if config.backend == "yolox":
        return missing_file(
            key,
            config.weights,
            f"Give a YOLOX ONNX file: {key}=PATH/yolox_nano.onnx ({YOLOX_ONNX}), or an ultralytics model: "
            f"{prefix}detector.backend=yolo {key}={DEFAULT_YOLO} (downloaded where a network exists)",
        )
    if config.backend != "yolo":
        return []
    weights = config.weights
    file_remedy = f"Give a weights file: {key}=PATH/{Path(weights).name or DEFAULT_YOLO}, {yolox}"
    if Path(weights).is_file():
        return unsafe_weights(config, Path(weights), prefix)
    if not weights or "/" in weights or "\\" in weights:  # a path, not a name ultralytics could download
        return missing_file(key, weights, file_remedy)
    places, url = ultralytics_source(weights)
    for place in places:
        if place.is_file():
            return unsafe_weights(config, place, prefix)
    if url is None:
        problem = f"neither a file nor a model name that ultralytics downloads (e.g. {DEFAULT_YOLO})"
        return [MissingInput(key, weights, problem, file_remedy)]
    if reachable(url):
        return []
    problem = (
        f"an ultralytics model name, not in {' or '.join(str(p.parent.resolve()) for p in places)}, and its "
        f"download server cannot be reached (offline?)"
    )
    remedy = f"Fetch {url} where a network exists and give {key}=PATH/{weights}, {yolox}"
    return [MissingInput(key, weights, problem, remedy)]
