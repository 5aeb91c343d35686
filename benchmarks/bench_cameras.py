"""Benchmark: how many 1080p crowd cameras one machine tracks at a given frame rate, each camera in its own
worker (``rfv track`` with ``workers=N``), YOLOX-nano + OSNet-x0.25 (the ``pets09`` preset, ONNX).

Issue 21 asks how many 1080p cameras at 10 frames/s one GPU tracks with YOLO + OSNet. Every camera here
is bench_pipeline_crowd's clip (MOT17-04's 8 real 1920x1080 frames played forward and back, 341 frames,
MPEG-4), linked ``N`` times into one folder, so the N cameras are N equal crowds. For N = 1, 2, ... it runs
``rfv track`` on the folder with ``workers=N`` (each worker gets the machine's cores divided by N, and
its threads, overlap and parallel frames follow from them as in any run) and prints the wall time, the
frames/s of the slowest camera (its frames over its own seconds, from summary.json) and all cameras'
frames over the wall time; it stops at the first N whose slowest camera falls below ``--fps``, or at
``--max-cameras``, and prints the largest N that kept every camera at ``--fps`` or more.

The models run where the track config puts them (``--set detector.device=... embedder.device=...``;
``auto``: onnxruntime's CUDA provider where it is installed, else the CPU). Printed with the device,
the onnxruntime providers, the cores and the load: the figure is this machine's.

    python benchmarks/bench_cameras.py [--data ../shared/data] [--out runs/bench-cameras] [--fps 10]
        [--max-cameras 16] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from bench_pipeline_crowd import crowd_inputs  # noqa: E402  (benchmarks/ is on the path)
from bench_pipeline_pets09 import track_config  # noqa: E402

from reid_from_video.tracking.result import TrackResult
from reid_from_video.tracking.run import run_track


def camera_folder(clip: Path, folder: Path, count: int) -> Path:
    """``folder`` holding ``count`` links to ``clip`` (cam01.mp4, cam02.mp4, ...), made afresh."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for k in range(1, count + 1):
        (folder / f"cam{k:02d}{clip.suffix}").symlink_to(clip.resolve())
    return folder


def track_cameras(folder: Path, out: Path, data: Path, count: int, settings: list[str]) -> dict:
    """``rfv track`` on the ``count`` cameras of ``folder`` in ``count`` workers: wall time and frames/s."""
    shutil.rmtree(out, ignore_errors=True)
    config = track_config(data, *settings, f"workers={count}")
    start = time.perf_counter()
    run_track(folder, out, config)
    wall = time.perf_counter() - start
    cameras = TrackResult.read(out).cameras
    slowest = min(c.frames / c.seconds for c in cameras)
    return {"wall_s": wall, "slowest": slowest, "overall": sum(c.frames for c in cameras) / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-cameras"))
    parser.add_argument("--fps", type=float, default=10.0, help="the frame rate every camera must keep")
    parser.add_argument("--max-cameras", type=int, default=16)
    parser.add_argument("--frames", type=int, default=341, help="length of the crowd clip")
    parser.add_argument(
        "--set",
        nargs="*",
        default=["detector.score_min=0.15"],
        metavar="KEY=VALUE",
        help="track config overrides (default detector.score_min=0.15: about 22 people a frame)",
    )
    args = parser.parse_args()
    import onnxruntime

    from reid_from_video.core.device import cpu_cores, resolve_device

    clip = crowd_inputs(args.data, args.out, args.frames)
    device = resolve_device("auto")
    print(
        f"{clip}: {args.frames} frames of a 1080p crowd; "
        f"pets09 preset with {' '.join(args.set) or 'no overrides'}\n"
        f"{cpu_cores()} CPU cores, torch sees {device}, onnxruntime providers "
        f"{', '.join(onnxruntime.get_available_providers())}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'cameras':>7s} | {'wall s':>6s} | {'slowest camera frames/s':>23s} | all cameras frames/s")
    kept = 0
    for count in range(1, args.max_cameras + 1):
        folder = camera_folder(clip, args.out / "cameras", count)
        row = track_cameras(folder, args.out / f"run{count}", args.data, count, args.set)
        line = f"{count:7d} | {row['wall_s']:6.1f} | {row['slowest']:23.1f} | {row['overall']:20.1f}"
        print(line, flush=True)
        if row["slowest"] < args.fps:
            break
        kept = count
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"cameras this machine tracks at >= {args.fps:g} frames/s each: {kept}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
