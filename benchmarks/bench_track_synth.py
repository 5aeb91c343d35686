"""Benchmark: background subtraction + DeepSORT on a synthetic world (`rfv synth`), scored against its gt.

Generates a world (default 3 cameras x 60 s, 640x360, 10 fps, seed 0; the preset was tuned on seed 1),
tracks its videos with `rfv track -c synth` (MOG2 blobs, colour-histogram appearance) and scores them with
`rfv mot-eval` twice: against every gt row (MOTChallenge: people fully hidden behind others count as
misses) and with `min_visibility=0.5` (gt boxes less than half visible become distractors: neither missed
nor a false positive). Prints per camera and combined: detection recall and precision (of the written
track boxes, the CLEAR counts), MOTA, IDF1, IDSW, rFM, rSW, and frames/s per tracking stage.

    python benchmarks/bench_track_synth.py [--seed 0] [--preset synth] [--onnx] [--world DIR] [KEY=VALUE ...]

KEY=VALUE are `rfv track` overrides; --onnx adds a run with the OSNet-x0.25 ONNX embedder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from reid_from_video.core.config import load_config
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import COMBINED, score_mot
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.pipeline import synthesize
from reid_from_video.tracking.camera import STAGES
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.result import TrackResult
from reid_from_video.tracking.run import run_track

OSNET = "osnet_x0_25_msmt17.onnx"


def score(world: Path, mot: Path, min_visibility: float) -> dict[str, dict]:
    """name -> metrics (per camera and COMBINED) of the run's MOT files against the world's gt."""
    config = MotEvalConfig(plots=False, min_visibility=min_visibility)
    report = score_mot(world / "gt", mot, config)[0].to_json()
    entries = {**report["sequences"], COMBINED: report[COMBINED]}
    return {name: {**e["clear"], **e["noise"], "hota": e["hota"]["HOTA"]} for name, e in entries.items()}


def table(metrics: dict[str, dict]) -> str:
    lines = [f"{'camera':10s} {'recall':>6s} {'prec':>6s} {'MOTA':>6s} {'IDF1':>6s} {'HOTA':>6s} "
             f"{'IDSW':>5s} {'rFM':>5s} {'rSW':>5s}"]  # fmt: skip
    for name, m in metrics.items():
        lines.append(
            f"{name:10s} {m['recall']:6.1%} {m['precision']:6.1%} {m['mota']:6.1%} {m['idf1']:6.1%} "
            f"{m['hota']:6.1%} {m['num_switches']:5.0f} {m['rfm']:5.2f} {m['rsw']:5.2f}"
        )
    return "\n".join(lines)


def speed(summary: TrackResult) -> str:
    totals = summary.totals
    frames, stages, seconds = totals.frames, totals.stage_seconds, totals.seconds or 0.0
    parts = [f"{stage} {frames / stages[stage]:.0f}" for stage in STAGES if stages.get(stage)]
    return (
        f"{frames} frames in {seconds:.1f} s ({frames / seconds:.0f} frames/s, "
        f"one process); frames/s per stage: {', '.join(parts)}"
    )


def track_and_score(world: Path, out: Path, preset: str, overrides: list[str], label: str) -> None:
    config = load_config(TrackConfig, preset, ["progress=false", *overrides], stage="track")
    summary = run_track(world / "videos", out, config)
    print(f"\n== {label}: rfv track {world / 'videos'} -c {preset} {' '.join(overrides)}")
    for min_visibility, what in ((0.0, "all gt rows"), (0.5, "gt with visibility >= 0.5")):
        print(f"-- scored against {what}")
        print(table(score(world, out / "mot", min_visibility)))
    print(speed(summary))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="rfv track overrides")
    parser.add_argument("--seed", type=int, default=0, help="world seed (the preset was tuned on seed 1)")
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--preset", default="synth")
    parser.add_argument("--world", type=Path, help="an existing `rfv synth` world instead of a new one")
    parser.add_argument("--onnx", action="store_true", help="also run with the OSNet-x0.25 ONNX embedder")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world = args.world
        if world is None:
            world = Path(tmp) / "world"
            synth = SynthConfig(
                cameras=args.cameras, seconds=args.seconds, seed=args.seed, contact_sheet=False
            )
            synth.mars.enabled = False
            synthesize(synth, world, progress=False)
            print(
                f"world: rfv synth cameras={args.cameras} seconds={args.seconds:g} seed={args.seed} "
                f"({synth.size}, {synth.fps} fps, {synth.identities} identities); {os.cpu_count()} CPUs"
            )
        track_and_score(world, Path(tmp) / "histogram", args.preset, args.overrides, "histogram embedder")
        if args.onnx:
            weights = args.data / "models" / OSNET
            if not weights.is_file():
                print(f"\n{weights} not found: no ONNX run", file=sys.stderr)
                return 1
            onnx = ["embedder.backend=onnx", f"embedder.weights={weights}", *args.overrides]
            track_and_score(world, Path(tmp) / "onnx", args.preset, onnx, "OSNet-x0.25 ONNX embedder")
    return 0


if __name__ == "__main__":
    sys.exit(main())
