"""The training loop's hooks (fast-reid's ``HookBase`` shape): small objects, each with one job, that the
loop calls at fixed moments. The loop (:class:`~reid_from_video.train.loop.Trainer`) trains; everything
around training (evaluation, logs, the progress bar, checkpoints) is a hook.

The contract: the trainer calls every hook, in the order of its list (:func:`build_hooks`), with itself:

* ``before_train`` once, after a resume is restored, before the first epoch (also when none is left);
* ``before_epoch`` when the epoch's labels and batches are set: ``trainer.epoch``, ``trainer.labels``,
  ``trainer.batches`` (the epoch's global batches of frame rows) and ``trainer.position`` (epoch, first
  batch: not 0 in an epoch resumed in its middle);
* ``after_step`` after every batch: ``trainer.step`` (its index), ``trainer.terms`` (its loss terms),
  ``trainer.lr``, ``trainer.stepped`` (whether the optimiser stepped), ``trainer.position`` (epoch, batches
  done);
* ``after_epoch`` after the epoch's last batch: ``trainer.position`` is (epoch + 1, 0);
* ``before_save`` once, on rank 0, after the last epoch and before ``model.pt`` is written: a hook may add
  what it learnt about the final network to ``trainer.facts`` (kept in model.pt's ``training`` and in
  ``train_report.json``);
* ``after_train`` once, after ``model.pt`` and ``train_report.json`` are written.

Hooks observe: one that changes what is trained (weights, random state, batches) breaks exact resume.
A hook runs on every rank unless its docstring says "rank 0 only" (:func:`build_hooks` leaves it out of
the other ranks' lists).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm import tqdm

from reid_from_video.core import checkpoint
from reid_from_video.embed.gate import calibrate_gate
from reid_from_video.io.tracklets import TrackletSet
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.distributed import Process, barrier
from reid_from_video.train.features import embed_paths, evaluate_model
from reid_from_video.train.schedule import learning_rate

if TYPE_CHECKING:
    from reid_from_video.train.loop import Trainer

log = logging.getLogger(__name__)


class Hook:
    """A hook that does nothing at every moment; subclasses override the moments they need."""

    def before_train(self, trainer: Trainer) -> None:
        """Once, before the first epoch."""

    def before_epoch(self, trainer: Trainer) -> None:
        """Before the epoch's first batch."""

    def after_step(self, trainer: Trainer) -> None:
        """After every batch."""

    def after_epoch(self, trainer: Trainer) -> None:
        """After the epoch's last batch."""

    def before_save(self, trainer: Trainer) -> None:
        """Once, on rank 0, before model.pt is written."""

    def after_train(self, trainer: Trainer) -> None:
        """Once, after the results are written."""


def build_hooks(
    config: TrainConfig, process: Process, eval_set: TrackletSet | None, extra: Sequence[Hook] = ()
) -> list[Hook]:
    """The hooks of a run, in calling order: evaluation before logging (the epoch's row takes its scores),
    the caller's ``extra`` hooks after the built-in ones, checkpointing last (it saves what they logged)."""
    hooks: list[Hook] = []
    if eval_set is not None and process.main:
        hooks.append(EvaluationHook(eval_set))
    if config.gate.calibrate and process.main:
        hooks.append(GateHook())
    hooks.append(LoggingHook())
    if config.progress and process.main:
        hooks.append(ProgressHook())
    hooks.extend(extra)
    hooks.append(CheckpointHook(config.save_every))
    return hooks


class EvaluationHook(Hook):
    """Rank 0 only. Scores the method's final model on the held-out tracklets: before training (with
    ``eval.before``, when the logs hold no epoch yet, so a resumed run keeps its first score), after every
    ``eval.every``-th epoch and after the last. Sets ``trainer.metrics`` to the scores, or None where it did
    not evaluate, for the logging hook after it."""

    def __init__(self, eval_set: TrackletSet) -> None:
        self.eval_set = eval_set

    def before_train(self, trainer: Trainer) -> None:
        due = trainer.config.eval.before and not trainer.logs.epochs
        trainer.metrics = self._score(trainer, 0) if due else None

    def after_epoch(self, trainer: Trainer) -> None:
        done, config = trainer.epoch + 1, trainer.config
        due = done == config.epochs or done % max(1, config.eval.every) == 0
        trainer.metrics = self._score(trainer, done) if due else None

    def _score(self, trainer: Trainer, epoch: int) -> dict[str, float]:
        config = trainer.config
        metrics = evaluate_model(
            trainer.method.final_model(),
            self.eval_set,
            trainer.device,
            config.eval.frames_per_tracklet,
            config.data.workers,
            config.inference_threads,
        )
        log.info("epoch %d: mAP %.1f, rank-1 %.1f", epoch, metrics["mAP"], metrics["rank1"])
        return metrics


class GateHook(Hook):
    """Rank 0 only. Calibrates the tracker's appearance gate of the final network on the training frames
    (:mod:`reid_from_video.embed.gate`) and adds it to ``trainer.facts["appearance_gate"]``; data without
    the video's frame numbers (MARS, a simulated store), or with too few people seen together, gets none
    (logged)."""

    def before_save(self, trainer: Trainer) -> None:
        frames, config = trainer.frames, trainer.config.gate
        if frames.frame is None:
            log.info("no appearance gate: %s has no frame numbers of the video", frames.source)
            return
        model = trainer.method.final_model()
        gate = calibrate_gate(
            lambda rows: embed_paths(
                model,
                [frames.paths[i] for i in rows],
                trainer.device,
                workers=trainer.config.data.workers,
                threads=trainer.config.inference_threads,
            ),
            frames.camera,
            frames.frame,
            frames.unit,
            quantile=config.quantile,
            max_frames=config.frames,
            min_pairs=config.min_pairs,
        )
        if gate is None:
            log.info("no appearance gate: fewer than %d pairs of people seen together", config.min_pairs)
            return
        trainer.facts["appearance_gate"] = asdict(gate)
        log.info(
            "appearance gate %.3f: %.0f%% of %d pairs of people seen together in %d frames are closer",
            gate.max_cosine_distance,
            100 * gate.quantile,
            gate.pairs,
            gate.frames,
        )


class LoggingHook(Hook):
    """Keeps the rows of ``trainer.logs`` (every rank) and writes them to TensorBoard when it is installed
    (rank 0). A row per batch: epoch, step, lr and the loss terms. A row per epoch: the loss terms' means
    over the whole epoch (a resumed epoch's earlier batches included), lr, seconds and images/s of training,
    the method's ``epoch_figures()`` and ``trainer.metrics``; epoch 0: the untrained network's scores, when
    it was evaluated. The CSV files are written with every checkpoint (:class:`CheckpointHook`)."""

    def __init__(self) -> None:
        self.writer: Any = None
        self.terms: set[str] = set()
        self.images, self.started, self.seconds = 0, 0.0, 0.0

    def before_train(self, trainer: Trainer) -> None:
        self.writer = _tensorboard(trainer) if trainer.process.main else None
        if trainer.metrics is not None:
            self._record(trainer, {"epoch": 0, **trainer.metrics})

    def before_epoch(self, trainer: Trainer) -> None:
        self.terms = set()
        self.images, self.started = 0, time.perf_counter()

    def after_step(self, trainer: Trainer) -> None:
        self.images += len(trainer.batches[trainer.step])
        self.seconds = time.perf_counter() - self.started  # training time: the evaluation is not in it
        self.terms |= trainer.terms.keys()
        epoch, step = trainer.epoch, trainer.step
        trainer.logs.steps.append({"epoch": epoch + 1, "step": step + 1, "lr": trainer.lr, **trainer.terms})
        if self.writer is not None:
            self.writer.add_scalar("loss/batch", trainer.terms["loss"], epoch * len(trainer.batches) + step)

    def after_epoch(self, trainer: Trainer) -> None:
        epoch = trainer.epoch
        steps = pd.DataFrame([row for row in trainer.logs.steps if row["epoch"] == epoch + 1])
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            **{f"loss_{key}": float(steps[key].mean()) for key in sorted(self.terms)},
            "lr": learning_rate(trainer.config.optim, epoch),
            "seconds": self.seconds,
            "images_per_s": self.images / self.seconds if self.seconds else 0.0,
            **trainer.method.epoch_figures(),
            **(trainer.metrics or {}),
        }
        self._record(trainer, row)

    def after_train(self, trainer: Trainer) -> None:
        if self.writer is not None:
            self.writer.close()

    def _record(self, trainer: Trainer, row: dict[str, Any]) -> None:
        trainer.logs.epochs.append(row)
        if self.writer is not None:
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)):
                    self.writer.add_scalar(f"epoch/{key}", value, row["epoch"])


class ProgressHook(Hook):
    """Rank 0 only: a progress bar per epoch (tqdm) with the batch's loss and the images/s."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.images, self.started = 0, 0.0

    def before_epoch(self, trainer: Trainer) -> None:
        self.bar = tqdm(
            total=len(trainer.batches),
            initial=trainer.position[1],
            desc=f"{trainer.method.name} epoch {trainer.epoch + 1}/{trainer.config.epochs}",
            unit="batch",
        )
        self.images, self.started = 0, time.perf_counter()

    def after_step(self, trainer: Trainer) -> None:
        assert self.bar is not None, "after_step before before_epoch"
        self.images += len(trainer.batches[trainer.step])
        rate = self.images / (time.perf_counter() - self.started)
        self.bar.set_postfix(loss=f"{trainer.terms['loss']:.3f}", img_s=f"{rate:.0f}")
        self.bar.update(1)

    def after_epoch(self, trainer: Trainer) -> None:
        if self.bar is not None:
            self.bar.close()


class CheckpointHook(Hook):
    """Saves ``checkpoint.pt`` (``trainer.state()``: everything a resume needs) and the logs' CSV files, so
    the CSVs always show what a resume continues from: after every epoch, and inside an epoch after every
    ``save_every`` batches that end on an optimiser step (not after its last batch: the epoch's checkpoint
    follows). Runs on every rank: they meet at a barrier, rank 0 writes."""

    def __init__(self, save_every: int) -> None:
        self.save_every = save_every

    def after_step(self, trainer: Trainer) -> None:
        done = trainer.position[1]
        if (
            self.save_every
            and done % self.save_every == 0
            and trainer.stepped
            and done < len(trainer.batches)
        ):
            self._save(trainer)

    def after_epoch(self, trainer: Trainer) -> None:
        self._save(trainer)

    def _save(self, trainer: Trainer) -> None:
        barrier(trainer.process)
        if not trainer.process.main:
            return
        trainer.out.mkdir(parents=True, exist_ok=True)
        checkpoint.save(trainer.out / checkpoint.CHECKPOINT_FILE, trainer.state())
        trainer.logs.write(trainer.out)


def _tensorboard(trainer: Trainer) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional; the CSV logs are always written
        return None
    return SummaryWriter(str(trainer.out / "tensorboard"))
