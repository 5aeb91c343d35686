"""The one training loop both methods share (OpenUnReID's runner shape: labels -> train -> validate -> save).

Per epoch: the method's labels (TMC re-associates), the epoch's global batches (a function of seed and
epoch), then per batch (:meth:`Trainer._train_step`): decode (worker processes), move, normalise and
augment on the training device (per-image parameters from a generator seeded by (seed, epoch, batch)),
forward under autocast (bf16 on a GPU), the method's losses on the global batch, backward, an optimiser
step every ``accumulate`` batches. Around that, hooks (:mod:`reid_from_video.train.hooks`): evaluation,
logs, progress and checkpoints. A checkpoint holds everything a resume needs (model, Mean Net, optimiser,
labels of the current epoch, position, logs; the learning rate is a function of the epoch), so a run killed
anywhere and started again continues exactly where the last checkpoint was. Every rank trains.
"""

from __future__ import annotations

import contextlib
import csv
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from reid_from_video.core import checkpoint
from reid_from_video.core.atomic import atomic_write, write_json
from reid_from_video.core.config import config_to_dict
from reid_from_video.core.errors import ConfigError
from reid_from_video.io.tracklets import TrackletSet
from reid_from_video.models.reid_net import ReidNet
from reid_from_video.train.augment import augment, normalize, sample_params
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import TrainFrames
from reid_from_video.train.decode import BatchDataset, batch_loader
from reid_from_video.train.distributed import Process, barrier, global_batchnorm
from reid_from_video.train.hooks import Hook, build_hooks
from reid_from_video.train.result import PRETRAINED, UNTRAINED
from reid_from_video.train.sampler import camera_balanced_batches, epoch_rng, identity_batches, rank_slice
from reid_from_video.train.schedule import learning_rate

log = logging.getLogger(__name__)

# Settings that may change between a run and its resume without changing what is computed.
# Settings that do not change what is trained: a checkpoint resumes under other values.
RESUMABLE_CHANGES = (
    "progress", "threads", "save_every", "data.workers", "eval", "gate", "device", "compile"
)  # fmt: skip
REPORT_FILE = "train_report.json"


class Method(Protocol):
    """What a training method gives the loop (see taudl.py, tmc.py)."""

    name: str
    balanced: bool  # camera-balanced batches
    new_classifier_each_epoch: bool  # the optimiser is rebuilt after begin_epoch

    def modules(self) -> dict[str, nn.Module]: ...
    def load_state(self, state: dict[str, dict[str, torch.Tensor]]) -> None: ...
    def begin_epoch(self, epoch: int) -> np.ndarray: ...
    def resume_epoch(self, labels: np.ndarray) -> None: ...
    def losses(
        self, forward: Callable, images: torch.Tensor, rows: np.ndarray
    ) -> dict[str, torch.Tensor]: ...
    def after_step(self) -> None: ...
    def epoch_figures(self) -> dict[str, float | str]: ...  # the epoch's own columns of epochs.csv
    def final_model(self) -> ReidNet: ...


@dataclass
class Logs:
    """Per-batch and per-epoch rows (kept in the checkpoint, so a resumed run's logs are whole)."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    epochs: list[dict[str, Any]] = field(default_factory=list)

    def write(self, out: Path) -> list[Path]:
        written = []
        for name, rows in (("steps.csv", self.steps), ("epochs.csv", self.epochs)):
            if rows:
                columns = list(dict.fromkeys(key for row in rows for key in row))
                with atomic_write(out / name) as handle:
                    writer = csv.DictWriter(handle, columns, lineterminator="\n")
                    writer.writeheader()
                    writer.writerows(rows)
                written.append(out / name)
        return written


def build_method(config: TrainConfig, frames: TrainFrames, process: Process) -> Method:
    torch.manual_seed(config.seed)  # the initial weights of what is not loaded
    if config.method == "taudl":
        from reid_from_video.train.taudl import TaudlMethod

        return TaudlMethod(config, frames, process)
    from reid_from_video.train.tmc import TmcMethod

    return TmcMethod(config, frames, process)


def epoch_batches(
    method: Method, labels: np.ndarray, frames: TrainFrames, config: TrainConfig, epoch: int
) -> list[np.ndarray]:
    rng = epoch_rng(config.seed, epoch, 0)
    d = config.data
    if method.balanced:
        return camera_balanced_batches(labels, frames.camera, d.p, d.k, d.iters, d.cameras_per_batch, rng)
    return identity_batches(labels, d.p, d.k, d.iters, rng)


def augment_seed(seed: int, epoch: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, step, 2]).generate_state(1)[0])


def amp_dtype(config: TrainConfig, device: torch.device) -> torch.dtype | None:
    if config.amp == "bf16" or (config.amp == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


def _comparable(config: TrainConfig) -> dict[str, Any]:
    plain = config_to_dict(config)
    for key in RESUMABLE_CHANGES:
        *parents, last = key.split(".")
        node = plain
        for parent in parents:
            node = node[parent]
        node.pop(last, None)
    return plain


@dataclass
class Trainer:
    """One training run into ``out``; :meth:`run` trains (or resumes) to the last epoch. ``hooks``: the
    caller's, run after the built-in ones (:func:`~reid_from_video.train.hooks.build_hooks`). What the hooks
    read is set as the run goes (see the hooks module): epoch, step, labels, batches, terms, lr, stepped,
    position, metrics, logs."""

    frames: TrainFrames
    config: TrainConfig
    out: Path
    process: Process
    eval_set: TrackletSet | None = None
    hooks: Sequence[Hook] = ()

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.device = self.process.device
        self.amp = amp_dtype(self.config, self.device)
        self.method = build_method(self.config, self.frames, self.process)
        self.hooks = build_hooks(self.config, self.process, self.eval_set, self.hooks)
        self.logs = Logs()
        self.position = (0, 0)  # (epoch, batches done in it)
        self.epoch, self.step, self.lr, self.stepped = 0, 0, 0.0, False
        self.labels = np.zeros(0, np.int64)  # the epoch's frame labels
        self.batches: list[np.ndarray] = []  # the epoch's global batches (frame rows)
        self.part = slice(0, 0)  # this rank's part of a global batch
        self.terms: dict[str, float] = {}  # the last batch's loss terms
        self.metrics: dict[str, float] | None = None  # the evaluation hook's scores, when it evaluated
        self.facts: dict[str, Any] = {}  # what before_save hooks learnt about the final network
        self.resume_labels: np.ndarray | None = None  # the labels of an epoch resumed in its middle
        self.resume_optimizer: dict[str, Any] | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.forward: Callable | None = None
        self.ddp: nn.parallel.DistributedDataParallel | None = None

    # ------------------------------------------------------------------------------------------ setup

    def _restore(self) -> None:
        path = self.out / checkpoint.CHECKPOINT_FILE
        if not path.is_file():
            return
        state = checkpoint.load(path)
        if _comparable(self.config) != state["comparable"]:
            raise ConfigError(
                f"{path} was written by a different training config: train into another --out, or delete it "
                "to start over"
            )
        self.method.load_state(state["modules"])
        self.logs = Logs(state["logs"]["steps"], state["logs"]["epochs"])
        self.position = (int(state["position"]["epoch"]), int(state["position"]["step"]))
        torch.set_rng_state(state["rng"])
        self.resume_optimizer = state["optimizer"]
        if self.position[1]:
            self.resume_labels = state["labels"].numpy()
        if self.process.main:
            log.info("resuming %s at epoch %d, batch %d", path, *self.position)

    def state(self) -> dict[str, Any]:
        """The checkpoint's content, what :meth:`_restore` reads back (the labels: inside an epoch only)."""
        inside = self.position[1] > 0
        return {
            "format": checkpoint.FORMAT,
            "model": self.config.model.to_dict(),
            "comparable": _comparable(self.config),
            "position": {"epoch": self.position[0], "step": self.position[1]},
            "modules": {name: module.state_dict() for name, module in self.method.modules().items()},
            "optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
            "labels": torch.from_numpy(np.asarray(self.labels, np.int64)) if inside else None,
            "rng": torch.get_rng_state(),
            "logs": {"steps": self.logs.steps, "epochs": self.logs.epochs},
        }

    def _place(self) -> None:
        memory = torch.channels_last if self.config.channels_last else torch.contiguous_format
        for module in self.method.modules().values():
            module.to(self.device, memory_format=memory)
            if self.process.distributed and self.config.sync_bn:
                global_batchnorm(module)
            module.train()

    def _new_optimizer(self) -> None:
        """Adam over the net's trainable parameters (and DDP / compile around the net). A previous
        optimiser's state carries over for every parameter outside the classifier, which TMC replaces every
        epoch: restarting Adam's moments each epoch would kick the backbone every epoch."""
        net = self.method.modules()["net"]
        parameters = [p for p in net.parameters() if p.requires_grad]
        o = self.config.optim
        previous = self.optimizer
        self.optimizer = torch.optim.Adam(parameters, lr=o.lr, weight_decay=o.weight_decay)
        if previous is not None:
            fresh = {id(p) for p in net.classifier.parameters()} if net.classifier is not None else set()
            for parameter in parameters:
                if id(parameter) not in fresh and parameter in previous.state:
                    self.optimizer.state[parameter] = previous.state[parameter]
        forward: Callable = net
        if self.process.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            forward = nn.parallel.DistributedDataParallel(net, device_ids=ids, broadcast_buffers=False)
        if self.config.compile:
            forward = torch.compile(forward)
        self.ddp = forward if isinstance(forward, nn.parallel.DistributedDataParallel) else None
        self.forward = forward

    # -------------------------------------------------------------------------------------------- run

    def run(self) -> dict[str, Any]:
        self._restore()
        self._place()
        if self.resume_optimizer is not None:
            self._new_optimizer()  # over the restored parameters, as they were saved
            self.optimizer.load_state_dict(self.resume_optimizer)  # type: ignore[union-attr]
        for hook in self.hooks:
            hook.before_train(self)
        for epoch in range(self.position[0], self.config.epochs):
            self._train_epoch(epoch)
        report = self._finish()
        for hook in self.hooks:
            hook.after_train(self)
        return report

    def _train_epoch(self, epoch: int) -> None:
        """The epoch's labels and batches, then its batches from ``position`` on, with the hooks."""
        self.epoch = epoch
        self.labels = self._epoch_labels(epoch)
        self.batches = epoch_batches(self.method, self.labels, self.frames, self.config, epoch)
        for hook in self.hooks:
            hook.before_epoch(self)
        for step, local in enumerate(self._loader(), start=self.position[1]):
            self.step = step
            self.terms = self._train_step(local)
            self.position = (epoch, step + 1)
            for hook in self.hooks:
                hook.after_step(self)
        self.position = (epoch + 1, 0)
        for hook in self.hooks:
            hook.after_epoch(self)

    def _epoch_labels(self, epoch: int) -> np.ndarray:
        """The method's labels for ``epoch`` (a new optimiser where it needs one), or, resumed inside the
        epoch, the saved ones (its classifier and optimiser come with the checkpoint)."""
        labels, self.resume_labels = self.resume_labels, None
        if labels is not None:
            self.method.resume_epoch(labels)
            return labels
        labels = self.method.begin_epoch(epoch)
        if self.optimizer is None or self.method.new_classifier_each_epoch:
            self._new_optimizer()
        return labels

    def _loader(self) -> torch.utils.data.DataLoader:
        """This rank's part of the epoch's batches from ``position`` on, decoded by worker processes."""
        self.part = rank_slice(len(self.batches[0]), self.process.rank, self.process.world)
        model = self.config.model
        parts = [batch[self.part] for batch in self.batches[self.position[1] :]]
        dataset = BatchDataset(self.frames.paths, model.input_size, model.colour == "RGB", parts)
        return batch_loader(dataset, self.config.data.workers, pin_memory=self.device.type == "cuda")

    def _train_step(self, local: torch.Tensor) -> dict[str, float]:
        """One batch (``self.step``): forward under autocast, the method's losses on the global batch,
        backward, and an optimiser step every ``accumulate`` batches; its loss terms."""
        rows, count = self.batches[self.step], len(self.batches)
        images = self._images(local, len(rows))
        accumulate = self.config.optim.accumulate
        self.stepped = (self.step + 1) % accumulate == 0 or self.step + 1 == count
        sync = contextlib.nullcontext()
        if self.ddp is not None and not self.stepped:
            sync = self.ddp.no_sync()  # gradients summed locally until the optimiser steps
        with sync:
            with torch.autocast(self.device.type, self.amp or torch.bfloat16, enabled=self.amp is not None):
                terms = self.method.losses(self.forward, images, rows)
            (terms["loss"] / accumulate).backward()
        self.lr = learning_rate(self.config.optim, self.epoch, self.step / count)
        if self.stepped:
            assert self.optimizer is not None, "the optimiser is built before the first batch"
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.method.after_step()
        return {key: float(value.detach()) for key, value in terms.items()}

    def _images(self, local: torch.Tensor, size: int) -> torch.Tensor:
        """This rank's decoded images normalised and augmented on the device; the augmentation's parameters
        are drawn for the whole global batch of ``size``, so they do not depend on the number of ranks."""
        generator = torch.Generator().manual_seed(augment_seed(self.config.seed, self.epoch, self.step))
        model = self.config.model
        h, w = model.input_size
        params = sample_params(size, h, w, self.config.augment, generator)
        images = normalize(
            local.to(self.device, non_blocking=True), model.mean, model.std, self.config.channels_last
        )
        return augment(images, params.slice(self.part.start, self.part.stop))

    def _finish(self) -> dict[str, Any]:
        barrier(self.process)
        report = self.report()
        if self.process.main:
            for hook in self.hooks:
                hook.before_save(self)
            report.update(self.facts)
            final = self.method.final_model()
            state = {k: v.detach().cpu() for k, v in final.state_dict().items()}
            training = {"method": self.method.name, "data": self.frames.source, "epochs": self.config.epochs}
            evaluated = [row for row in self.logs.epochs if "mAP" in row]
            if evaluated:
                training["metrics"] = {k: evaluated[-1][k] for k in ("mAP", "rank1", "rank5", "rank10")}
            training.update(self.facts)
            checkpoint.save(
                self.out / checkpoint.MODEL_FILE,
                checkpoint.model_content(self.config.model.to_dict(), state, training),
            )
            write_json(self.out / REPORT_FILE, report)
        return report

    def report(self) -> dict[str, Any]:
        epochs = [row for row in self.logs.epochs if "lr" in row]
        evaluated = [row for row in self.logs.epochs if "mAP" in row]
        report: dict[str, Any] = {
            "method": self.method.name,
            "data": self.frames.source,
            "frames": len(self.frames),
            "units": self.frames.num_units,
            "cameras": len(self.frames.camera_names),
            "processes": self.process.world,
            "device": str(self.device),
            "epochs": len(epochs),
            "seconds": sum(row["seconds"] for row in epochs),
            "images_per_s": float(np.mean([row["images_per_s"] for row in epochs])) if epochs else None,
            "final_loss": epochs[-1].get("loss_loss") if epochs else None,
            "start": PRETRAINED if self.config.model.pretrained else UNTRAINED,
        }
        if evaluated:
            first, last = evaluated[0], evaluated[-1]
            report["after"] = {k: last[k] for k in ("epoch", "mAP", "rank1")}
            if first["epoch"] == 0:  # the start network was scored (eval.before): never a later epoch
                report["before"] = {k: first[k] for k in ("epoch", "mAP", "rank1")}
        return report
