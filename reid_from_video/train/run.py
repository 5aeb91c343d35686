"""``run_train``: frames + labels -> a trained model in ``out`` (checkpoint, model.pt, logs, report)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import torch

from reid_from_video.core.config import CONFIG_FILENAME, save_config
from reid_from_video.core.inputs import require_inputs
from reid_from_video.core.lock import output_lock
from reid_from_video.io.tracklets import load_tracklets
from reid_from_video.models.architecture import with_init_architecture
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import load_train_frames
from reid_from_video.train.distributed import end_process, launch_rank, start_process
from reid_from_video.train.hooks import Hook
from reid_from_video.train.inputs import train_inputs
from reid_from_video.train.loop import Trainer
from reid_from_video.train.result import TrainResult

log = logging.getLogger(__name__)
WRITTEN = ("model.pt", "checkpoint.pt", "epochs.csv", "train_report.json")


def run_train(
    data: str | Path,
    out: str | Path,
    config: TrainConfig,
    labels: str | Path | None = None,
    hooks: Sequence[Hook] = (),
) -> TrainResult | None:
    """``rfv train``: train (or resume training) on ``data`` (a tracklet store or a MARS root) with
    ``labels`` (an ``rfv label`` output folder) into ``out`` (checkpoint.pt, model.pt, epochs.csv,
    steps.csv, train_report.json, config.yaml); the result (``out/train_report.json``). Under torchrun every
    process trains; only the first writes, and returns the result (the others None)."""
    require_inputs(train_inputs(config))  # a missing start file fails now, not after loading the data
    config = dataclasses.replace(config, model=with_init_architecture(config.model))
    if config.threads:
        torch.set_num_threads(config.threads)
    sub_tracks = config.method == "tmc" and config.tmc.isolation and labels is not None
    frames = load_train_frames(data, labels, sub_tracks, config.data.min_frames)
    eval_set = load_tracklets(config.eval.data) if config.eval.data else None
    # Only the first process writes, so only it locks ``out``; torchrun stops the others if it fails.
    with output_lock(out) if launch_rank() == 0 else contextlib.nullcontext():
        process = start_process(config.device)
        config = _schedule_on(config, process.device.type, announce=process.main)
        try:
            trainer = Trainer(frames, config, Path(out), process, eval_set, hooks)
            report = trainer.run()
            if not process.main:
                return None
            save_config(config, Path(out))
            log.info("wrote %s", ", ".join(str(Path(out) / name) for name in (*WRITTEN, CONFIG_FILENAME)))
            return TrainResult.from_json(report)
        finally:
            end_process(process)


def _schedule_on(config: TrainConfig, device_type: str, announce: bool) -> TrainConfig:
    """``config`` with the schedule it trains on ``device_type`` (see ``TrainConfig.on_device``), said when
    that differs from ``epochs`` x ``data.iters``."""
    trained = config.on_device(device_type)
    if trained is not config and announce:
        print(
            f"training on the CPU: {_schedule(trained)} (cpu_schedule) instead of {_schedule(config)}, "
            "a GPU's schedule (cpu_schedule.epochs=0 cpu_schedule.iters=0 keep it)",
            flush=True,
        )
    return trained


def _schedule(config: TrainConfig) -> str:
    iters = f"{config.data.iters} batches" if config.data.iters else "one pass over the labels"
    return f"{config.epochs} epochs of {iters}"
