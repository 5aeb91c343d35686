"""``rfv run``: a camera folder -> tracklets -> labels -> a trained, evaluated, exported model."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.pipeline.config import PipelineConfig


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cameras", type=Path, help="a camera folder (as rfv track takes)")
    parser.add_argument("--out", type=Path, required=True, help="run folder: one sub-folder per stage")


@command(
    "run",
    help="the whole job: track, mot-eval (with gt), label, train, evaluate (with eval_data), export, "
    "associate",
    description="Run every stage in RUN/<stage>/, each exactly as its own rfv command with its section of "
    "this config (track.*, mot_eval.*, label.*, train.*, evaluate.*, export.*, associate.*). A stage whose "
    "config and "
    "inputs are unchanged since it finished is skipped; run the same command again after an interruption "
    "and it resumes (training from its last checkpoint). Ends with RUN/run.json, a summary and the report "
    "RUN/report.html. Presets: reid_from_video/configs/pipeline/ (tmc, the default; taudl).",
    config=PipelineConfig,
    add_arguments=_run_arguments,
    presets="pipeline",
    default_config="tmc",
)
def _run_pipeline(args: argparse.Namespace, config: PipelineConfig) -> None:
    from reid_from_video.pipeline.finish import finish_run
    from reid_from_video.pipeline.run import run_pipeline

    finish_run(args.out, run_pipeline(args.cameras, args.out, config))
