"""The training loop's hooks on real tiny runs: a caller's hook sees every moment in order, with the
checkpoint, logs and scores that the built-in hooks before it have written, also in a resumed run."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from reid_from_video.core.config import load_config
from reid_from_video.io.tracklets import load_tracklets
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.distributed import Process
from reid_from_video.train.hooks import (
    CheckpointHook,
    EvaluationHook,
    GateHook,
    Hook,
    LoggingHook,
    ProgressHook,
    build_hooks,
)
from reid_from_video.train.loop import Trainer
from reid_from_video.train.run import run_train

SMALL = ["model.backbone=tiny", "model.weights=none", "model.input_size=[64, 32]", "data.workers=0"]
SMALL += ["threads=1", "progress=false", "method=taudl", "data.p=12"]


class Stop(Exception):
    pass


class Recorder(Hook):
    """Every call as (moment, position), and what the run's folder and logs held at that moment."""

    def __init__(self, stop_at: tuple[int, int] | None = None) -> None:
        self.calls: list[tuple[str, tuple[int, int]]] = []
        self.saved: list[tuple[int, int] | None] = []  # the checkpoint's position on disk, at each call
        self.seen: list[dict[str, Any]] = []
        self.stop_at = stop_at

    def _note(self, moment: str, trainer: Trainer, **seen: Any) -> None:
        self.calls.append((moment, trainer.position))
        path = trainer.out / "checkpoint.pt"
        state = torch.load(path, weights_only=True) if path.is_file() else None
        self.saved.append(None if state is None else (state["position"]["epoch"], state["position"]["step"]))
        self.seen.append({"model": (trainer.out / "model.pt").is_file(), **seen})

    def before_train(self, trainer: Trainer) -> None:
        self._note("before_train", trainer, metrics=trainer.metrics is not None)

    def before_epoch(self, trainer: Trainer) -> None:
        self._note("before_epoch", trainer, batches=len(trainer.batches))

    def after_step(self, trainer: Trainer) -> None:
        self._note("after_step", trainer, terms=sorted(trainer.terms), stepped=trainer.stepped)
        if trainer.position == self.stop_at:
            raise Stop

    def after_epoch(self, trainer: Trainer) -> None:
        row = trainer.logs.epochs[-1]
        self._note("after_epoch", trainer, row_epoch=row["epoch"], evaluated="mAP" in row)

    def before_save(self, trainer: Trainer) -> None:
        self._note("before_save", trainer, facts=sorted(trainer.facts))

    def after_train(self, trainer: Trainer) -> None:
        self._note("after_train", trainer)


def _config(*overrides: str) -> TrainConfig:
    return load_config(TrainConfig, None, [*SMALL, *overrides], stage="train")


def _steps(epoch: int, first: int, last: int) -> list[tuple[str, tuple[int, int]]]:
    return [("after_step", (epoch, done)) for done in range(first, last + 1)]


def test_a_hook_sees_every_moment_in_order_with_the_checkpoints_already_written(mars_world, tmp_path):
    held_out = f"eval.data={mars_world / 'mars'}"
    config = _config("epochs=2", "data.iters=3", "save_every=2", held_out, "eval.every=2")
    recorder = Recorder()
    run_train(mars_world / "mars", tmp_path / "run", config, hooks=[recorder])
    assert recorder.calls == [
        ("before_train", (0, 0)),
        ("before_epoch", (0, 0)),
        *_steps(0, 1, 3),
        ("after_epoch", (1, 0)),
        ("before_epoch", (1, 0)),
        *_steps(1, 1, 3),
        ("after_epoch", (2, 0)),
        ("before_save", (2, 0)),
        ("after_train", (2, 0)),
    ]
    # The checkpoint hook runs after the caller's: a batch's checkpoint (every 2, not at an epoch's last
    # batch) appears by the next call; the epoch's own by the next epoch; model.pt only at the end.
    assert recorder.saved == [None] * 4 + [(0, 2)] * 2 + [(1, 0)] * 3 + [(1, 2)] * 2 + [(2, 0)] * 2
    assert [seen["model"] for seen in recorder.seen] == [False] * 12 + [True]
    assert recorder.seen[11]["facts"] == []  # MARS has no frame numbers of the video: no appearance gate
    seen = recorder.seen
    assert seen[0]["metrics"] and seen[1]["batches"] == 3  # scored before training (eval.before)
    assert seen[2]["terms"] == ["ccta", "loss", "pctd"] and seen[2]["stepped"]
    # The logging hook has the epoch's row (with the evaluation's scores where due) before the caller's.
    assert (seen[5]["row_epoch"], seen[5]["evaluated"]) == (1, False)
    assert (seen[10]["row_epoch"], seen[10]["evaluated"]) == (2, True)


def test_a_resumed_run_calls_the_hooks_from_the_checkpoint_on(mars_world, tmp_path):
    config = _config("epochs=2", "data.iters=3", "save_every=2", "eval.data=")
    with pytest.raises(Stop):
        run_train(mars_world / "mars", tmp_path / "run", config, hooks=[Recorder(stop_at=(1, 3))])
    recorder = Recorder()
    run_train(mars_world / "mars", tmp_path / "run", config, hooks=[recorder])
    assert recorder.calls == [
        ("before_train", (1, 2)),  # the checkpoint at batch 2 of epoch 1
        ("before_epoch", (1, 2)),
        ("after_step", (1, 3)),
        ("after_epoch", (2, 0)),
        ("before_save", (2, 0)),
        ("after_train", (2, 0)),
    ]
    assert not recorder.seen[0]["metrics"]  # no held-out set: no scores


def test_rank_0_only_hooks_are_left_out_of_the_other_ranks(mars_world):
    config, extra = _config("progress=true"), Recorder()
    tracklets = load_tracklets(mars_world / "mars")
    main = build_hooks(config, Process(0, 2), tracklets, [extra])
    other = build_hooks(config, Process(1, 2), tracklets, [extra])
    kinds = [EvaluationHook, GateHook, LoggingHook, ProgressHook, Recorder, CheckpointHook]
    assert [type(hook) for hook in main] == kinds
    assert [type(hook) for hook in other] == [LoggingHook, Recorder, CheckpointHook]
    assert [type(hook) for hook in build_hooks(config, Process(), None)] == [
        GateHook,
        LoggingHook,
        ProgressHook,
        CheckpointHook,
    ]
