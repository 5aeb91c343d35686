"""Training re-ID networks from tracklet labels: TAUDL (per-camera branches + CCTA) and TMC (mean teacher
with per-epoch re-association), one loop (AMP, DDP, checkpoint/resume, evaluation hook, logs)."""

from reid_from_video.train.config import TrainConfig
from reid_from_video.train.hooks import Hook
from reid_from_video.train.run import format_report, run_train

__all__ = ["Hook", "TrainConfig", "format_report", "run_train"]
