"""The one training loop both methods share (OpenUnReID's runner shape: labels -> train -> validate -> save).

Per epoch: the method's labels (TMC re-associates), the epoch's global batches (a function of seed and
epoch), then per batch: decode (worker processes), move, normalise and augment on the training device
(per-image parameters from a generator seeded by (seed, epoch, batch)), forward under autocast (bf16 on a
GPU), the method's losses on the global batch, backward, an optimiser step every ``accumulate`` batches.
After every epoch (and every ``save_every`` batches): a checkpoint with everything a resume needs (model,
Mean Net, optimiser, labels of the current epoch, position, logs; the learning rate is a function of the
epoch), so a run killed anywhere and started again continues exactly where the last checkpoint was.
Rank 0 evaluates, logs (CSV, TensorBoard when installed) and writes; every rank trains.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from reid_from_video.core import checkpoint
from reid_from_video.core.atomic import atomic_write, write_json
from reid_from_video.core.config import config_to_dict
from reid_from_video.core.errors import ConfigError
from reid_from_video.io.tracklets import TrackletSet
from reid_from_video.models import ReidNet
from reid_from_video.train.augment import augment, normalize, sample_params
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import TrainFrames
from reid_from_video.train.decode import BatchDataset, batch_loader
from reid_from_video.train.distributed import Process, barrier, global_batchnorm
from reid_from_video.train.features import evaluate_model
from reid_from_video.train.sampler import camera_balanced_batches, epoch_rng, identity_batches, rank_slice
from reid_from_video.train.schedule import learning_rate

log = logging.getLogger(__name__)

# Settings that may change between a run and its resume without changing what is computed.
RESUMABLE_CHANGES = ("progress", "threads", "save_every", "data.workers", "eval", "device", "compile")
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


def epoch_batches(method: Method, labels: np.ndarray, frames: TrainFrames, config: TrainConfig, epoch: int):
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
    """One training run into ``out``; :meth:`run` trains (or resumes) to the last epoch."""

    frames: TrainFrames
    config: TrainConfig
    out: Path
    process: Process
    eval_set: TrackletSet | None = None
    on_step: Callable[[int, int], None] | None = None  # called after every batch (epoch, step): tests, hooks

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.device = self.process.device
        self.method = build_method(self.config, self.frames, self.process)
        self.logs = Logs()
        self.position = (0, 0)  # (epoch, batches done in it)
        self.resume_labels: np.ndarray | None = None  # the labels of an epoch resumed in its middle
        self.resume_optimizer: dict[str, Any] | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.forward: Callable | None = None
        self.ddp: nn.parallel.DistributedDataParallel | None = None
        self.writer = _tensorboard(self.out) if self.process.main else None

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
        if self.eval_set is not None and self.config.eval.before and not self.logs.epochs:
            self._end_epoch(-1, {}, 0.0, 0)  # epoch 0 of the logs: the untrained network
        for epoch in range(self.position[0], self.config.epochs):
            self._train_epoch(epoch)
        return self._finish()

    def _train_epoch(self, epoch: int) -> None:
        start_step = self.position[1] if epoch == self.position[0] else 0
        labels, self.resume_labels = self.resume_labels, None
        if labels is not None:  # resumed inside this epoch: its labels, classifier and optimiser restored
            self.method.resume_epoch(labels)
        else:
            labels = self.method.begin_epoch(epoch)
            if self.optimizer is None or self.method.new_classifier_each_epoch:
                self._new_optimizer()
        batches = epoch_batches(self.method, labels, self.frames, self.config, epoch)
        part = rank_slice(len(batches[0]), self.process.rank, self.process.world)
        model = self.config.model
        dataset = BatchDataset(
            self.frames.paths,
            model.input_size,
            model.colour == "RGB",
            [b[part] for b in batches[start_step:]],
        )
        loader = batch_loader(dataset, self.config.data.workers, pin_memory=self.device.type == "cuda")
        terms_seen: set[str] = set()
        images_seen, started = 0, time.perf_counter()
        accumulate = self.config.optim.accumulate
        dtype = amp_dtype(self.config, self.device)
        bar = tqdm(
            total=len(batches),
            initial=start_step,
            desc=f"{self.method.name} epoch {epoch + 1}/{self.config.epochs}",
            unit="batch",
            disable=not (self.config.progress and self.process.main),
        )
        with bar:
            for step, local in enumerate(loader, start=start_step):
                rows = batches[step]
                generator = torch.Generator().manual_seed(augment_seed(self.config.seed, epoch, step))
                h, w = model.input_size
                params = sample_params(len(rows), h, w, self.config.augment, generator)
                images = normalize(
                    local.to(self.device, non_blocking=True), model.mean, model.std, self.config.channels_last
                )
                images = augment(images, params.slice(part.start, part.stop))
                boundary = (step + 1) % accumulate == 0 or step + 1 == len(batches)
                sync = contextlib.nullcontext()
                if self.ddp is not None and not boundary:
                    sync = self.ddp.no_sync()
                with sync:
                    with torch.autocast(self.device.type, dtype or torch.bfloat16, enabled=dtype is not None):
                        terms = self.method.losses(self.forward, images, rows)
                    (terms["loss"] / accumulate).backward()
                lr = learning_rate(self.config.optim, epoch, step / len(batches))
                if boundary:
                    for group in self.optimizer.param_groups:  # type: ignore[union-attr]
                        group["lr"] = lr
                    self.optimizer.step()  # type: ignore[union-attr]
                    self.optimizer.zero_grad(set_to_none=True)  # type: ignore[union-attr]
                    self.method.after_step()
                values = {key: float(value.detach()) for key, value in terms.items()}
                terms_seen |= values.keys()
                images_seen += len(rows)
                rate = images_seen / (time.perf_counter() - started)
                self.logs.steps.append({"epoch": epoch + 1, "step": step + 1, "lr": lr, **values})
                bar.set_postfix(loss=f"{values['loss']:.3f}", img_s=f"{rate:.0f}")
                bar.update(1)
                if self.writer is not None:
                    self.writer.add_scalar("loss/batch", values["loss"], epoch * len(batches) + step)
                done = step + 1
                if self.on_step is not None:
                    self.on_step(epoch, done)
                if (
                    self.config.save_every
                    and done % self.config.save_every == 0
                    and boundary
                    and done < len(batches)
                ):
                    self.position = (epoch, done)
                    self._save(labels)
        seconds = time.perf_counter() - started
        # Means over the whole epoch's batches, a resumed epoch's earlier ones included (from the logs).
        rows = pd.DataFrame([row for row in self.logs.steps if row["epoch"] == epoch + 1])
        means = {key: float(rows[key].mean()) for key in sorted(terms_seen)}
        self.position = (epoch + 1, 0)
        self._end_epoch(epoch, means, seconds, images_seen)

    def _end_epoch(self, epoch: int, losses: dict[str, float], seconds: float, images: int) -> None:
        """Evaluate (rank 0), log and checkpoint; ``epoch`` -1: the untrained network's evaluation."""
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            **{f"loss_{k}": v for k, v in losses.items()},  # every rank's: the same global-batch loss
        }
        if epoch >= 0:
            row["lr"] = learning_rate(self.config.optim, epoch)
            row["seconds"] = seconds
            row["images_per_s"] = images / seconds if seconds else 0.0
            association = getattr(self.method, "last_association", None)
            if association:
                row.update({f"assoc_{k}": v for k, v in association.items()})
        last = epoch + 1 == self.config.epochs
        due = epoch < 0 or last or (epoch + 1) % max(1, self.config.eval.every) == 0
        if self.eval_set is not None and due and self.process.main:
            metrics = evaluate_model(
                self.method.final_model(),
                self.eval_set,
                self.device,
                self.config.eval.frames_per_tracklet,
                self.config.data.workers,
            )
            row.update(metrics)
            log.info("epoch %d: mAP %.1f, rank-1 %.1f", epoch + 1, metrics["mAP"], metrics["rank1"])
        self.logs.epochs.append(row)
        if self.writer is not None:
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)):
                    self.writer.add_scalar(f"epoch/{key}", value, epoch + 1)
        if epoch >= 0:
            self._save(None)

    def _save(self, labels: np.ndarray | None) -> None:
        barrier(self.process)
        if not self.process.main:
            return
        content = {
            "format": checkpoint.FORMAT,
            "model": self.config.model.to_dict(),
            "comparable": _comparable(self.config),
            "position": {"epoch": self.position[0], "step": self.position[1]},
            "modules": {name: module.state_dict() for name, module in self.method.modules().items()},
            "optimizer": None if self.optimizer is None else self.optimizer.state_dict(),
            "labels": None if labels is None else torch.from_numpy(np.asarray(labels, np.int64)),
            "rng": torch.get_rng_state(),
            "logs": {"steps": self.logs.steps, "epochs": self.logs.epochs},
        }
        self.out.mkdir(parents=True, exist_ok=True)
        checkpoint.save(self.out / checkpoint.CHECKPOINT_FILE, content)
        self.logs.write(self.out)

    def _finish(self) -> dict[str, Any]:
        barrier(self.process)
        report = self.report()
        if self.process.main:
            final = self.method.final_model()
            state = {k: v.detach().cpu() for k, v in final.state_dict().items()}
            training = {"method": self.method.name, "data": self.frames.source, "epochs": self.config.epochs}
            evaluated = [row for row in self.logs.epochs if "mAP" in row]
            if evaluated:
                training["metrics"] = {k: evaluated[-1][k] for k in ("mAP", "rank1", "rank5", "rank10")}
            checkpoint.save(
                self.out / checkpoint.MODEL_FILE,
                checkpoint.model_content(self.config.model.to_dict(), state, training),
            )
            write_json(self.out / REPORT_FILE, report)
        if self.writer is not None:
            self.writer.close()
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
        }
        if evaluated:
            first, last = evaluated[0], evaluated[-1]
            report["before"] = {k: first[k] for k in ("epoch", "mAP", "rank1")}
            report["after"] = {k: last[k] for k in ("epoch", "mAP", "rank1")}
        return report


def _tensorboard(out: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; the CSV logs are always written
        return None
    return SummaryWriter(str(out / "tensorboard"))
