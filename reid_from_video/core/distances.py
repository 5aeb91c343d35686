"""Feature distances: unit rows, squared L2 (numpy or torch), and query x gallery distances in blocks of
queries so that a MARS-size evaluation never holds N x N."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

METRICS = ("cosine", "euclidean")


def normalize_rows(features: np.ndarray) -> np.ndarray:
    """Unit-length rows (a zero row stays zero)."""
    features = np.asarray(features, dtype=np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


def camera_centred(features: np.ndarray, cameras: np.ndarray) -> np.ndarray:
    """Each camera's mean row subtracted from its rows, then unit length: what is common to everything a
    camera sees (its light, colour balance, background) no longer separates it from the other cameras."""
    centred = features.astype(np.float64, copy=True)
    for camera in np.unique(cameras):
        rows = cameras == camera
        centred[rows] -= centred[rows].mean(axis=0)
    return normalize_rows(centred).astype(features.dtype)


def squared_euclidean(a, b, b_squared=None):
    """All squared L2 distances between the rows of ``a`` and ``b`` (rounding below 0 clipped): numpy
    arrays or torch tensors (on any device), whichever is given. ``b_squared``: the squared norms of the
    rows of ``b`` when the caller has them (a loop over blocks of ``a`` then computes them once)."""
    if b_squared is None:
        b_squared = (b * b).sum(1)
    return ((a * a).sum(1)[:, None] + b_squared[None, :] - 2 * a @ b.T).clip(min=0.0)


def pairwise_distances(query: np.ndarray, gallery: np.ndarray, metric: str) -> np.ndarray:
    """``cosine``: 1 - cos; ``euclidean``: the plain L2 distance (as ``pdist2`` in the MARS code)."""
    if metric == "cosine":
        return 1.0 - normalize_rows(query) @ normalize_rows(gallery).T
    if metric == "euclidean":
        return np.sqrt(squared_euclidean(query, gallery))
    raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")


def distance_blocks(
    query: np.ndarray, gallery: np.ndarray, metric: str, block: int = 1024
) -> Iterator[tuple[slice, np.ndarray]]:
    """``(query rows, distances of those rows to the whole gallery)``, ``block`` queries at a time.

    Features are float64 here: float32 products can swap near-tied gallery items between runs and devices.
    """
    if query.ndim != 2 or gallery.ndim != 2 or query.shape[1] != gallery.shape[1]:
        raise ValueError(f"feature shapes do not match: query {query.shape}, gallery {gallery.shape}")
    if block < 1:
        raise ValueError(f"block must be >= 1, not {block}")
    query, gallery = query.astype(np.float64), gallery.astype(np.float64)
    for start in range(0, len(query), block):
        rows = slice(start, min(start + block, len(query)))
        yield rows, pairwise_distances(query[rows], gallery, metric)
