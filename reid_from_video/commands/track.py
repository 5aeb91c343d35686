"""``rfv track``: camera folders -> per-camera tracklets (MOTChallenge txt, crops, index)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.tracking.config import TrackConfig


def _track_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "cameras",
        type=Path,
        help="a camera folder (video files, image folders, MOT sequences), one video, or a MOT tree",
    )
    parser.add_argument("--out", type=Path, required=True, help="run folder: mot/, crops/, index/, summary")


@command(
    "track",
    help="detect and track people per camera: MOTChallenge txt, crops and the tracklet index",
    description="Per camera: detect persons (ultralytics YOLO, by default yolo11n.pt, which ultralytics "
    "downloads where a network exists; YOLOX ONNX; background subtraction; or precomputed MOT detections), "
    "embed their appearance (ONNX / TorchScript re-ID model, precomputed "
    "deep_sort features, colour histograms or none), track with DeepSORT (trackers/), and write "
    "RUN/mot/<camera>.txt, crops under RUN/crops/ and the index RUN/index.csv. Cameras already complete in "
    "RUN with the same settings and input are skipped (a replaced video is tracked again); a RUN made with "
    "other settings is refused (overwrite=true tracks it again). One writer at a time: RUN is locked while "
    "it runs. workers=N tracks N cameras at once; shard=i/n takes every n-th camera. With the "
    "precomputed detector, embedder none or precomputed and save_crops=false, a MOT tree without images "
    "is enough (MOT17 mode: `rfv track MOT17/train --out RUN -c mot17`).",
    config=TrackConfig,
    add_arguments=_track_arguments,
)
def _run_track(args: argparse.Namespace, config: TrackConfig) -> None:
    from reid_from_video.tracking.run import run_track

    print(run_track(args.cameras, args.out, config).summary())
