"""motmetrics under NumPy 2.

motmetrics 1.4.0 (the latest release) calls ``np.asfarray``, removed in NumPy 2.0, in exactly one place:
``motmetrics.distances.iou_matrix``. Rather than pin the whole stack to NumPy 1, :func:`patch` replaces that
one function, in the modules that hold a reference to it, by an equivalent that converts with
``np.asarray(..., dtype=float)``; its arithmetic (``motmetrics.distances.boxiou``) is motmetrics' own, so
results are unchanged. The patch is applied only where ``np.asfarray`` is missing, and is idempotent.

Our own evaluation never calls ``iou_matrix`` (it computes IoU in :mod:`reid_from_video.noise.boxes`); the
patch exists so that motmetrics' own helpers and apps (``compare_to_groundtruth``, ``eval_motchallenge``),
which the tests and the benchmark run as the reference, work in the same environment.
"""

from __future__ import annotations

import numpy as np


def _iou_matrix(objs, hyps, max_iou: float = 1.0) -> np.ndarray:
    import motmetrics.distances as distances

    if np.size(objs) == 0 or np.size(hyps) == 0:
        return np.empty((0, 0))
    objs = np.asarray(objs, dtype=float)
    hyps = np.asarray(hyps, dtype=float)
    assert objs.shape[1] == 4 and hyps.shape[1] == 4
    dist = 1 - distances.boxiou(objs[:, None], hyps[None, :])
    return np.where(dist > max_iou, np.nan, dist)


def patch() -> None:
    """Make motmetrics' IoU distance work under NumPy 2 (no-op under NumPy 1 or when already patched)."""
    if hasattr(np, "asfarray"):
        return
    import motmetrics.distances
    import motmetrics.utils

    for module in (motmetrics.distances, motmetrics.utils):
        module.iou_matrix = _iou_matrix
