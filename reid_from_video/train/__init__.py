"""Training re-ID networks from tracklet labels: TAUDL (per-camera branches + CCTA) and TMC (mean teacher
with per-epoch re-association), one loop (AMP, DDP, checkpoint/resume, evaluation hook, logs)."""

from reid_from_video.train.config import TrainConfig
from reid_from_video.train.run import run_train

__all__ = ["TrainConfig", "run_train"]
