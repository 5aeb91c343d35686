"""Features of image files with a training network: for TMC's association and the evaluation hook."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from reid_from_video.core.device import torch_threads
from reid_from_video.embed.features import chosen_frames, pool_frames
from reid_from_video.evaluate.config import EvaluateConfig
from reid_from_video.evaluate.evaluation import evaluate_features
from reid_from_video.io.tracklets import TrackletSet
from reid_from_video.models.reid_net import ReidNet
from reid_from_video.train.augment import normalize
from reid_from_video.train.decode import BatchDataset, batch_loader


@torch.inference_mode()
def embed_paths(
    model: ReidNet,
    paths: Sequence[str],
    device: torch.device,
    batch_size: int = 128,
    workers: int = 0,
    threads: int = 0,
) -> np.ndarray:
    """Unit-length eval-mode features (float32, one row per path), the network's preprocessing. On a CPU
    the forward passes run on ``threads`` torch threads, and torch's count is restored after (0: torch's
    count as it is)."""
    with torch_threads(threads if device.type == "cpu" else 0):
        return _embed(model, paths, device, batch_size, workers)


def _embed(
    model: ReidNet, paths: Sequence[str], device: torch.device, batch_size: int, workers: int
) -> np.ndarray:
    config = model.config
    batches = [np.arange(i, min(i + batch_size, len(paths))) for i in range(0, len(paths), batch_size)]
    dataset = BatchDataset(list(paths), config.input_size, config.colour == "RGB", batches)
    was_training = model.training
    model.eval()
    rows = []
    try:
        for images in batch_loader(dataset, workers, pin_memory=device.type == "cuda"):
            batch = normalize(images.to(device, non_blocking=True), config.mean, config.std)
            with torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda"):
                rows.append(model(batch).float().cpu())
    finally:
        model.train(was_training)
    if not rows:
        return np.zeros((0, model.feature_dim), np.float32)
    return torch.cat(rows).numpy()


def evaluate_model(
    model: ReidNet,
    tracklets: TrackletSet,
    device: torch.device,
    frames_per_tracklet: int,
    workers: int = 0,
    threads: int = 0,
) -> dict[str, float]:
    """mAP and CMC ranks 1/5/10 (%) of the network on ``tracklets`` (each the mean of its chosen frames)."""
    chosen = [[p[i] for i in chosen_frames(len(p), frames_per_tracklet)] for p in tracklets.paths]
    flat = [path for frames in chosen for path in frames]
    features = embed_paths(model, flat, device, workers=workers, threads=threads)
    features = pool_frames(features, [len(c) for c in chosen])
    result = evaluate_features(features, tracklets.protocol, EvaluateConfig())
    return {
        "mAP": 100 * result.mean_ap,
        "rank1": 100 * result.rank(1),
        "rank5": 100 * result.rank(5),
        "rank10": 100 * result.rank(10),
    }
