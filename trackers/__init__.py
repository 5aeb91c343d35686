"""Multi-object trackers (DeepSORT-style), importable on their own.

This package depends on numpy, scipy and lap only: it must never import torch, so that a tracker can run
on a machine that has no deep-learning stack (appearance features can come from ONNX or precomputed files).
"""
