"""``run_train``: frames + labels -> a trained model in ``out`` (checkpoint, model.pt, logs, report)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from reid_from_video.io.tracklets import load_tracklets
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import load_train_frames
from reid_from_video.train.distributed import end_process, start_process
from reid_from_video.train.hooks import Hook
from reid_from_video.train.loop import Trainer


def run_train(
    data: str | Path,
    out: str | Path,
    config: TrainConfig,
    labels: str | Path | None = None,
    hooks: Sequence[Hook] = (),
) -> dict[str, Any]:
    """Train (or resume training) on ``data`` (a tracklet store or a MARS root) with ``labels`` (an
    ``rfv label`` output folder); returns the run's report (also in ``out/train_report.json``). ``hooks``:
    the caller's, called after the built-in ones (:mod:`reid_from_video.train.hooks`)."""
    if config.threads:
        torch.set_num_threads(config.threads)
    sub_tracks = config.method == "tmc" and config.tmc.isolation and labels is not None
    frames = load_train_frames(data, labels, sub_tracks, config.data.min_frames)
    eval_set = load_tracklets(config.eval.data) if config.eval.data else None
    process = start_process(config.device)
    try:
        trainer = Trainer(frames, config, Path(out), process, eval_set, hooks)
        return trainer.run()
    finally:
        end_process(process)


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"{report['method']}: {report['epochs']} epochs on {report['frames']} images ({report['units']} "
        f"tracklets, {report['cameras']} cameras) of {report['data']}, {report['processes']} process(es) on "
        f"{report['device']}, {report['seconds']:.0f} s, {report['images_per_s'] or 0:.0f} images/s"
    ]
    if report.get("final_loss") is not None:
        lines.append(f"final loss {report['final_loss']:.4f}")
    if "before" in report:
        b, a = report["before"], report["after"]
        lines.append(
            f"mAP {b['mAP']:.1f} -> {a['mAP']:.1f}, rank-1 {b['rank1']:.1f} -> {a['rank1']:.1f} "
            f"(epoch {b['epoch']} -> {a['epoch']})"
        )
    return "\n".join(lines)
