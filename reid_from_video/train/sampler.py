"""Batches of an epoch: P labels x K images (re-ID's identity sampler), camera balanced for TAUDL.

Every epoch's batches are a function of ``(seed, epoch)`` alone, so a resumed run and every rank of a
distributed run draw exactly the same global batches; a rank trains on its contiguous slice of each one.
"""

from __future__ import annotations

import math

import numpy as np

from reid_from_video.core.errors import ConfigError
from reid_from_video.train.data import NOT_TRAINED


def label_pools(labels: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """(label values, the frame rows of each) for the labelled frames."""
    rows = np.flatnonzero(labels != NOT_TRAINED)
    order = rows[np.argsort(labels[rows], kind="stable")]
    values, starts = np.unique(labels[order], return_index=True)
    return values, np.split(order, starts[1:])


def _draw(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(pool, k, replace=len(pool) < k)


def _cycle(n: int, rng: np.random.Generator):
    """Indices 0 .. n-1 in a fresh random order each pass, forever."""
    while True:
        yield from rng.permutation(n)


def identity_batches(
    labels: np.ndarray, p: int, k: int, iters: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """P labels x K images per batch; ``iters`` batches, 0: ceil(labels / P) (each label once)."""
    values, pools = label_pools(labels)
    if len(values) < 2:
        raise ConfigError(f"{len(values)} label(s): a batch needs at least 2 (nothing to tell apart)")
    p = min(p, len(values))
    n_batches = iters or math.ceil(len(values) / p)
    order = _cycle(len(values), rng)
    batches = []
    for _ in range(n_batches):
        chosen: list[int] = []
        while len(chosen) < p:  # distinct labels within a batch, across a reshuffle too
            label = int(next(order))
            if label not in chosen:
                chosen.append(label)
        batches.append(np.concatenate([_draw(pools[i], k, rng) for i in chosen]))
    return batches


def camera_balanced_batches(
    labels: np.ndarray,
    cameras: np.ndarray,
    p: int,
    k: int,
    iters: int,
    cameras_per_batch: int,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """TAUDL: every batch takes P / C labels x K images from each of its C cameras (all cameras, or
    ``cameras_per_batch`` drawn per batch), so every camera has the same number of images in it.
    ``iters`` 0: enough batches for the largest camera's labels to appear once."""
    values, pools = label_pools(labels)
    label_camera = np.array([cameras[pool[0]] for pool in pools], np.int64)
    present = np.unique(label_camera)
    c = min(cameras_per_batch or len(present), len(present))
    if p % c:
        raise ConfigError(
            f"data.p = {p} labels cannot be split evenly over {c} cameras: make p a multiple of {c}"
        )
    per_camera = p // c
    members = {int(cam): np.flatnonzero(label_camera == cam) for cam in present}
    if c == len(present):
        n_batches = iters or max(math.ceil(len(m) / per_camera) for m in members.values())
    else:
        n_batches = iters or math.ceil(len(values) / p)
    cycles = {cam: _cycle(len(m), rng) for cam, m in members.items()}
    batches = []
    for _ in range(n_batches):
        chosen_cameras = present if c == len(present) else np.sort(rng.choice(present, c, replace=False))
        parts = []
        for cam in chosen_cameras:
            group = members[int(cam)]
            take = min(per_camera, len(group))
            picked: list[int] = []
            while len(picked) < take:
                i = int(next(cycles[int(cam)]))
                if i not in picked:
                    picked.append(i)
            # A camera with fewer labels than P / C repeats some, to keep its share of the batch.
            picked += [picked[j % take] for j in range(per_camera - take)]
            parts.extend(_draw(pools[group[i]], k, rng) for i in picked)
        batches.append(np.concatenate(parts))
    return batches


def epoch_rng(seed: int, epoch: int, stream: int) -> np.random.Generator:
    """The generator of one epoch's draws of one kind (stream 0: batches, 1: association windows)."""
    return np.random.default_rng([seed, epoch, stream])


def rank_slice(batch_size: int, rank: int, world: int) -> slice:
    """The contiguous part of a global batch that ``rank`` trains on."""
    if batch_size % world:
        raise ValueError(f"a global batch of {batch_size} images cannot be split over {world} processes")
    share = batch_size // world
    return slice(rank * share, (rank + 1) * share)
