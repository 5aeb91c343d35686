"""Camera folders to tracklets: per camera detect -> embed -> track -> MOTChallenge txt + crops + index."""

from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

__all__ = ["TrackConfig", "run_track"]
