"""reid_from_video: raw surveillance video to a deployable person re-ID model, with no human labels."""

__version__ = "0.1.0"
