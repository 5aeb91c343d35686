"""Tracklet features: the mean of (a chosen number of) its frames' features, as the MARS code pools them."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from reid_from_video.core.errors import InputError

# A batch of BGR uint8 crops (any sizes) -> one feature row per crop.
EmbedFn = Callable[[list[np.ndarray]], np.ndarray]
_READ_AHEAD = 3  # batches being read while the model runs


def read_feature_file(path: str | Path) -> np.ndarray:
    """A ``.npy`` of features: a 2-d float array of finite values, or an :class:`InputError` naming it."""
    path = Path(path)
    try:
        features = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(path, f"cannot read as a .npy array: {error}") from None
    if features.ndim != 2 or not np.issubdtype(features.dtype, np.floating):
        raise InputError(path, f"expected a 2-d float array, found {features.dtype} {features.shape}")
    if not np.isfinite(features).all():
        raise InputError(path, "features hold NaN or infinite values")
    return features


def chosen_frames(n_frames: int, frames_per_tracklet: int) -> np.ndarray:
    """Indices of the frames that represent a tracklet: all of them (``frames_per_tracklet`` 0), or that
    many spread evenly from first to last (deterministic, so two evaluations see the same frames)."""
    if frames_per_tracklet <= 0 or n_frames <= frames_per_tracklet:
        return np.arange(n_frames)
    return np.unique(np.linspace(0, n_frames - 1, frames_per_tracklet).round().astype(np.int64))


def pool_frames(frame_features: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    """Mean of consecutive runs of frame features: ``lengths[i]`` rows for tracklet i."""
    lengths = np.asarray(lengths, np.int64)
    if lengths.sum() != len(frame_features):
        raise ValueError(f"{len(frame_features)} frame features for {int(lengths.sum())} frames")
    if (lengths < 1).any():
        raise ValueError("every tracklet needs at least one frame")
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sums = np.add.reduceat(frame_features.astype(np.float64), starts, axis=0)
    return (sums / lengths[:, None]).astype(np.float32)


def tracklet_features(
    paths: Sequence[Sequence[str]],
    embed: EmbedFn,
    frames_per_tracklet: int = 0,
    batch_size: int = 128,
    progress: bool = True,
) -> np.ndarray:
    """Embed the chosen frames of every tracklet (``paths[i]``: its image files in frame order) and pool.

    Images are read by a few threads while the model runs; an unreadable image is an error naming it.
    """
    chosen = [[p[i] for i in chosen_frames(len(p), frames_per_tracklet)] for p in paths]
    lengths = [len(c) for c in chosen]  # pool_frames rejects a tracklet without frames
    flat = [p for c in chosen for p in c]
    rows: list[np.ndarray] = []
    batches = [flat[i : i + batch_size] for i in range(0, len(flat), batch_size)]
    bar = tqdm(total=len(flat), desc="features", unit="img", disable=not progress)
    with ThreadPoolExecutor(max_workers=4) as pool, bar:
        # Read ahead a few batches only: submitting them all would load every image of the set at once.
        todo = iter(batches)
        pending = deque(pool.submit(_read_batch, b) for b in islice(todo, _READ_AHEAD))
        while pending:
            images = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(pool.submit(_read_batch, following))
            rows.append(np.asarray(embed(images), np.float32))
            bar.update(len(images))
    features = np.concatenate(rows)
    if features.ndim != 2 or len(features) != len(flat):
        raise ValueError(f"the model gave features of shape {features.shape} for {len(flat)} images")
    return pool_frames(features, lengths)


def _read_batch(paths: Sequence[str]) -> list[np.ndarray]:
    return [_read(p) for p in paths]


def _read(path: str) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "cannot read the image")
    return image
