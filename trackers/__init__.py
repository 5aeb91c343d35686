"""Multi-object trackers (DeepSORT-style), importable on their own.

This package depends on numpy, scipy and lap only: it must never import torch, so that a tracker can run
on a machine that has no deep-learning stack (appearance features can come from ONNX or precomputed files).

    from rfv_trackers import DeepSort, DeepSortConfig
    tracker = DeepSort(DeepSortConfig(), fps=25)
    for boxes, scores, features in frames:      # boxes (N, 4) x, y, w, h; features (N, D) or None
        out = tracker.update(boxes, scores, features)   # out.ids, out.boxes, out.scores, out.det_index
"""

from .config import DeepSortConfig
from .deepsort import DeepSort, TrackerOutput

__all__ = ["DeepSort", "DeepSortConfig", "TrackerOutput"]
