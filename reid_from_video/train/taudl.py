"""TAUDL's trainer (Li, Zhu, Gong, ECCV 2018, section 3.2): a shared network with one classifier branch per
camera (PCTD, eq. 2) and the cross-camera tracklet association loss (CCTA, eq. 3) on the shared features,
joint loss eq. (4); batches balanced over cameras (same number of images from each)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from reid_from_video.core.errors import InputError
from reid_from_video.losses.taudl import TAUDLLoss
from reid_from_video.models.reid_net import ReidNet, build_model
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import TrainFrames, camera_local_labels, every_unit_labelled
from reid_from_video.train.distributed import Process, gather


class TaudlMethod:
    """Labels are fixed (SSTT's, or every tracklet's); nothing happens between epochs."""

    name = "taudl"
    balanced = True  # camera-balanced batches
    new_classifier_each_epoch = False

    def __init__(self, config: TrainConfig, frames: TrainFrames, process: Process) -> None:
        if (frames.label < 0).all():
            frames = every_unit_labelled(frames)  # no --labels: every tracklet is its own label
        self.frames = frames
        local, self.sizes = camera_local_labels(frames)
        if sum(size > 0 for size in self.sizes) < 2:
            raise InputError(frames.source, "TAUDL needs labelled tracklets in 2 or more cameras (CCTA)")
        self.local = torch.tensor(local)
        self.cameras = torch.tensor(frames.camera)
        self.process = process
        self.net: ReidNet = build_model(config.model, [max(1, size) for size in self.sizes])
        t = config.taudl
        self.loss = TAUDLLoss(
            t.weight, t.sigma, t.k or None, len(self.sizes), t.include_self, t.label_smoothing
        )

    def modules(self) -> dict[str, nn.Module]:
        return {"net": self.net}

    def load_state(self, state: Mapping[str, Mapping[str, torch.Tensor]]) -> None:
        self.net.load_state_dict(state["net"])

    def begin_epoch(self, epoch: int) -> np.ndarray:
        """The sampling labels (global, unique across cameras)."""
        return self.frames.label

    def resume_epoch(self, labels: np.ndarray) -> None:
        """Nothing to restore: the labels never change."""

    def losses(self, forward: Callable, images: torch.Tensor, rows: np.ndarray) -> dict[str, torch.Tensor]:
        output = forward(images)
        features = gather(output.features, self.process).float()
        logits = [gather(branch, self.process).float() for branch in output.logits]
        index = torch.from_numpy(rows)
        labels = self.local[index].to(features.device)
        cameras = self.cameras[index].to(features.device)
        terms = self.loss(features, logits, labels, cameras)
        return {"loss": terms.total, "pctd": terms.pctd, "ccta": terms.ccta}

    def after_step(self) -> None:
        """No second network to update."""

    def epoch_figures(self) -> dict[str, float | str]:
        """Nothing changes between epochs."""
        return {}

    def final_model(self) -> ReidNet:
        return self.net
