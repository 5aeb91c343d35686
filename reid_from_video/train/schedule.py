"""The learning rate as a function of the epoch: linear warm-up from lr / 10, then step decay. A pure
function, so a resumed run needs no scheduler state."""

from __future__ import annotations

from bisect import bisect_right

from reid_from_video.train.config import OptimConfig


def learning_rate(config: OptimConfig, epoch: int, progress: float = 0.0) -> float:
    """The rate during ``epoch`` (0-based), ``progress`` in [0, 1) through it."""
    decay = config.gamma ** bisect_right(sorted(config.milestones), epoch)
    if epoch < config.warmup_epochs:
        warm = (epoch + progress) / config.warmup_epochs
        return config.lr * (0.1 + 0.9 * warm) * decay
    return config.lr * decay
