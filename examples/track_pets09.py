"""Real video: PETS09-S2L1 (480x360 video) -> YOLOX-nano -> DeepSORT with OSNet features -> MOT15 scores.

The MOT15 ground truth is in 768x576 coordinates: its boxes are scaled by 0.625 to the video's. Prints MOTA,
IDF1, rFM, rSW and the frames/s of each stage (CPU unless a GPU is present).

    python examples/track_pets09.py [--data ../shared/data] [--out runs/pets09] [KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from reid_from_video.core.config import load_config
from reid_from_video.io.mot import read_mot, write_mot
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import COMBINED, score_mot, summary_frame
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.result import TrackResult
from reid_from_video.tracking.run import run_track

SCALE = 0.625  # 480 / 768


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/pets09"))
    parser.add_argument("overrides", nargs="*", help="track config overrides, e.g. detector.score_min=0.4")
    args = parser.parse_args()
    video = args.data / "video" / "pets09_s2l1_view1.avi"
    gt_file = args.data / "mot15" / "PETS09-S2L1" / "gt" / "gt.txt"
    config = load_config(
        TrackConfig,
        "pets09",
        [
            f"detector.weights={args.data / 'models' / 'yolox_nano.onnx'}",
            f"embedder.weights={args.data / 'models' / 'osnet_x0_25_msmt17.onnx'}",
            *args.overrides,
        ],
        stage="track",
    )
    summary = run_track(video, args.out, config)
    gt = read_mot(gt_file)
    gt[["x", "y", "w", "h"]] *= SCALE
    scaled = args.out / "gt_video_coordinates" / "gt.txt"
    scaled.parent.mkdir(parents=True, exist_ok=True)
    write_mot(scaled, gt, kind="gt")
    report, _ = score_mot(scaled, args.out / "mot" / f"{video.stem}.txt", MotEvalConfig(plots=False))
    columns = ["MOTA", "IDF1", "IDSW", "rFM", "rSW", "tracklets", "gt_ids"]
    result = summary_frame(report).loc[COMBINED, columns]
    camera = (summary.cameras or TrackResult.read(args.out).cameras)[0]
    stage_fps = {k: round(v, 1) for k, v in camera.stage_frames_per_s.items()}
    print(json.dumps(result.to_dict(), indent=1))
    print(f"frames/s per stage: {stage_fps}; overall {camera.frames_per_s or 0:.1f} frames/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
