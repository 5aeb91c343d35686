"""The parity check: the exported model's features against the PyTorch network's on the same crops.

Figures: the largest absolute difference of any feature value, and the cosine of each row pair (its
minimum and mean). Both models output unit rows, so the two figures read on the same scale. Crops are
real images when given, else deterministic synthetic ones (smooth random colour fields with noise, of
varied sizes, so resizing is exercised as well).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from reid_from_video.export.config import MAX_ABS_DIFF, MIN_COSINE
from reid_from_video.export.crops import list_crops, read_crop
from reid_from_video.export.errors import ExportError


@dataclass
class Parity:
    """How closely two feature sets agree (row by row)."""

    rows: int
    max_abs_diff: float
    min_cosine: float
    mean_cosine: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def measure(reference: np.ndarray, features: np.ndarray) -> Parity:
    """Largest absolute difference and per-row cosines of ``features`` against ``reference``."""
    reference = np.asarray(reference, np.float64)
    features = np.asarray(features, np.float64)
    if reference.shape != features.shape:
        raise ValueError(f"feature shapes differ: {features.shape} against {reference.shape}")
    norms = np.linalg.norm(reference, axis=1) * np.linalg.norm(features, axis=1)
    cosines = (reference * features).sum(axis=1) / np.where(norms > 0, norms, 1.0)
    return Parity(
        rows=len(reference),
        max_abs_diff=float(np.abs(reference - features).max(initial=0.0)),
        min_cosine=float(cosines.min(initial=1.0)),
        mean_cosine=float(cosines.mean()) if len(cosines) else 1.0,
    )


def check(parity: Parity, path: Path, min_cosine: float = MIN_COSINE, max_abs: float = MAX_ABS_DIFF) -> None:
    """An :class:`ExportError` naming ``path`` when the figures are outside the tolerance."""
    if parity.min_cosine >= min_cosine and parity.max_abs_diff <= max_abs:
        return
    raise ExportError(
        path,
        f"parity check failed on {parity.rows} crops: min cosine {parity.min_cosine:.6f} (needs >= "
        f"{min_cosine}), max abs difference {parity.max_abs_diff:.3g} (needs <= {max_abs:g}) against the "
        "PyTorch model; the exported model computes something else, so it was not written",
    )


def synthetic_crops(count: int, size: tuple[int, int], seed: int = 0) -> list[np.ndarray]:
    """``count`` deterministic BGR uint8 crops around ``size`` (height, width): smooth random colour
    fields (a few blobs and bands, like clothes) plus pixel noise, from 0.5x to 1.5x the size."""
    rng = np.random.default_rng(seed)
    height, width = size
    crops = []
    for _ in range(count):
        h = max(2, int(height * rng.uniform(0.5, 1.5)))
        w = max(2, int(width * rng.uniform(0.5, 1.5)))
        coarse = rng.integers(0, 256, (int(rng.integers(3, 9)), int(rng.integers(2, 6)), 3), dtype=np.uint8)
        field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.int16)
        noise = rng.integers(-12, 13, (h, w, 3), dtype=np.int16)
        crops.append(np.clip(field + noise, 0, 255).astype(np.uint8))
    return crops


def parity_crops(images: str | Path | None, count: int, size: tuple[int, int], seed: int = 0) -> list:
    """``count`` crops for the check: spread evenly over the images of a folder or store, else synthetic."""
    if images is None:
        return synthetic_crops(count, size, seed)
    files = list_crops(images).files
    spread = np.unique(np.linspace(0, len(files) - 1, count).round().astype(np.int64))
    chosen: Sequence[Path] = [files[i] for i in spread]
    return [read_crop(p) for p in chosen]
