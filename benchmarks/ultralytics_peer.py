"""What the benchmarks need to drive ultralytics' trackers without its detector: a tracker by name with its
shipped settings, a Results-like detection object, its output as MOT rows, and the OSNet ONNX file in the
form ultralytics' re-ID loader expects.

ultralytics' ``ReID`` (``trackers/utils/reid.py``) runs an ONNX re-ID model through ``AutoBackend`` on
crops resized to the model's input size, RGB scaled to 0..1, and expects the embedding as the output; the
OSNet-x0.25 MSMT17 file expects ImageNet-normalised RGB and has a fixed batch of 1.
:func:`osnet_for_ultralytics` writes the same network with the normalisation as its first two nodes and its
batch axis freed (:func:`reid_from_video.core.onnx_session.free_batch_axis`), so the peer runs the same
model on the same pixels, all crops of a frame in one call.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from reid_from_video.embed.card import IMAGENET_MEAN, IMAGENET_STD  # our embedder's preprocessing


def installed() -> bool:
    return importlib.util.find_spec("ultralytics") is not None


def ultralytics_tracker(kind: str, **settings: Any) -> Any:
    """ultralytics' tracker ``kind`` (bytetrack, botsort, deepocsort, tracktrack, ...) with its shipped YAML,
    ``settings`` set over it (e.g. ``with_reid=True``)."""
    from ultralytics.cfg import get_cfg
    from ultralytics.trackers.track import TRACKER_MAP
    from ultralytics.utils import ROOT

    args = get_cfg(ROOT / "cfg" / "trackers" / f"{kind}.yaml")
    for key, value in settings.items():
        setattr(args, key, value)
    return TRACKER_MAP[kind](args=args)


def mot_rows(frame: int, tracks: np.ndarray) -> list[list]:
    """A frame's MOT result rows from a tracker's output (x1, y1, x2, y2, track id, ...)."""
    return [[frame, int(i), x1, y1, x2 - x1, y2 - y1, 1, -1, -1] for x1, y1, x2, y2, i, *_ in tracks]


class Dets:
    """The Results-like object ultralytics' trackers read: conf, cls, xywh (centre), xyxy, indexing."""

    def __init__(self, xywh: np.ndarray, conf: np.ndarray):
        self.xywh, self.conf, self.cls = xywh, conf, np.zeros(len(conf))

    @classmethod
    def from_tlwh(cls, tlwh: np.ndarray, conf: np.ndarray) -> Dets:
        """From top-left, width, height boxes (MOT's and our detector's)."""
        return cls(np.hstack([tlwh[:, :2] + tlwh[:, 2:4] / 2, tlwh[:, 2:4]]), conf)

    @property
    def xyxy(self) -> np.ndarray:  # BoT-SORT's camera-motion compensation masks the boxes out
        return np.hstack([self.xywh[:, :2] - self.xywh[:, 2:] / 2, self.xywh[:, :2] + self.xywh[:, 2:] / 2])

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, mask: np.ndarray) -> Dets:
        return Dets(self.xywh[mask], self.conf[mask])


def osnet_for_ultralytics(osnet: Path, out: Path) -> Path:
    """``out``: the OSNet ONNX file with ImageNet normalisation inside and a free batch axis."""
    import onnx
    from onnx import helper, numpy_helper

    from reid_from_video.core.onnx_session import free_batch_axis

    model = onnx.load_from_string(free_batch_axis(osnet))
    graph = model.graph
    image = graph.input[0].name
    scaled = f"{image}_imagenet"
    shape = (1, 3, 1, 1)
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(IMAGENET_MEAN, np.float32).reshape(shape), "imagenet_mean"),
            numpy_helper.from_array(np.array(IMAGENET_STD, np.float32).reshape(shape), "imagenet_std"),
        ]
    )
    for node in graph.node:
        node.input[:] = [scaled if name == image else name for name in node.input]
    normalise = [
        helper.make_node("Sub", [image, "imagenet_mean"], [f"{image}_centred"]),
        helper.make_node("Div", [f"{image}_centred", "imagenet_std"], [scaled]),
    ]
    nodes = [*normalise, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, out)
    return out
