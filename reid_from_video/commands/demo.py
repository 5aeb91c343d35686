"""``rfv demo``: the whole job on a built-in synthetic camera network (no data, no download, CPU)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.pipeline.config import DemoConfig


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="demo folder (default runs/demo)")


@command(
    "demo",
    help="see the whole job work: a synthetic 3-camera network -> a trained, exported re-ID model + report",
    description="Render a 3-camera synthetic world (OUT/world) and a world of other people (OUT/heldout), "
    "then rfv run on the first (OUT/run): background subtraction + DeepSORT, mot-eval against its ground "
    "truth, TMC labels, TMC training of a tiny CNN on the CPU, evaluation on the held-out people against the "
    "untrained network, ONNX export and the report OUT/run/report.html. Running it again reuses what is "
    "done. Preset: reid_from_video/configs/demo.yaml.",
    config=DemoConfig,
    add_arguments=_demo_arguments,
    default_config="demo",
)
def _run_demo(args: argparse.Namespace, config: DemoConfig) -> None:
    from reid_from_video.pipeline.demo import run_demo
    from reid_from_video.pipeline.finish import finish_run

    finish_run(args.out / "run", run_demo(args.out, config))
