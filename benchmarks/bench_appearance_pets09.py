"""Benchmark: appearance matching on real video, ours against boxmot's StrongSORT on the same inputs.

PETS09-S2L1 (the 480x360 video of ``../shared/data/video``, MOT15 ground truth scaled by 0.625):

1. YOLOX-nano detects people in every frame (the ``pets09`` preset's filters, scores down to 0.1), and
   OSNet-x0.25 (MSMT17, ONNX) embeds every detection. Both are cached once in ``--out`` as a deep_sort-style
   ``.npy`` (frame, -1, x, y, w, h, score, 512 features), so every tracker below sees the same boxes and
   the same features.
2. At each detection-score threshold (0.4 and 0.6, the issue's), the same detections go to:
   * ours, the ``pets09`` preset: StrongSORT's matching (one global assignment, each track's exponential
     moving average feature, 0.02 motion in the cost, confidence-scaled Kalman noise:
     ``configs/trackers/strongsort.yaml``), a gate on position only, appearance gate 0.3;
   * ours, DeepSORT's matching as published (the cascade over a gallery of features, the 4-dof gate),
     the same appearance gate: what the preset had before;
   * ours on motion alone (the preset without features);
   * boxmot's StrongSORT (``pip install boxmot``; its defaults: gate 0.4, EMA 0.9, motion weight 0.02),
     given the cached features as its embeddings (no re-ID model runs inside it). Skipped, with a line
     saying so, when boxmot is not installed.
   Then which of StrongSORT's changes did it: DeepSORT's matching with each change alone, with all four,
   and with all four plus the preset's position-only gate (the preset itself), each row scored the same way.
3. Every output is scored by ``rfv mot-eval`` (TrackEval CLEAR, identity metrics, HOTA) against the scaled
   ground truth, and the association time (the tracker alone, features given) is printed as frames/s.

    pip install boxmot      # the peer (optional)
    python benchmarks/bench_appearance_pets09.py [--data ../shared/data] [--out runs/bench-appearance]

The figures are deterministic given the cache (ONNX Runtime on the CPU); frames/s vary with the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.config import load_config
from reid_from_video.detect.registry import build_detector
from reid_from_video.embed.registry import build_embedder
from reid_from_video.io.mot import MOT_COLUMNS, read_mot, write_mot
from reid_from_video.io.video import discover_cameras, iter_frames
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import COMBINED, score_mot, summary_frame
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

SEQ = "PETS09-S2L1"
SCALE = 0.625  # MOT15's PETS09 gt is in 768 x 576 coordinates, the video 480 x 360
CACHE_SCORE = 0.1  # detections kept in the cache; each run applies its own threshold
THRESHOLDS = (0.4, 0.6)
# DeepSORT's matching as published, on top of the pets09 preset (which has StrongSORT's)
DEEPSORT = [
    "tracker.matching=cascade",
    "tracker.appearance_memory=gallery",
    "tracker.lambda_motion=0",
    "tracker.nsa_kalman=false",
    "tracker.gating_dof=4",
]
# StrongSORT's four changes (configs/trackers/strongsort.yaml), each alone and together, on DEEPSORT
STRONGSORT_CHANGES = {
    "global assignment": ["tracker.matching=global"],
    "moving-average feature": ["tracker.appearance_memory=ema"],
    "0.02 motion in the cost": ["tracker.lambda_motion=0.02"],
    "NSA Kalman": ["tracker.nsa_kalman=true"],
}
ALL_FOUR = [o for overrides in STRONGSORT_CHANGES.values() for o in overrides]
COLUMNS = ["MOTA", "IDF1", "HOTA", "IDSW", "rFM", "rSW"]


def mot_tree(data: Path, out: Path) -> Path:
    """``out/mot/PETS09-S2L1/{seqinfo.ini, gt/gt.txt}`` in video coordinates: a camera the precomputed
    detector can track without frames, and the ground truth to score it."""
    seq = out / "mot" / SEQ
    gt_file = seq / "gt" / "gt.txt"
    if not gt_file.is_file():
        gt = read_mot(data / "mot15" / SEQ / "gt" / "gt.txt")
        gt[["x", "y", "w", "h"]] *= SCALE
        gt_file.parent.mkdir(parents=True, exist_ok=True)
        write_mot(gt_file, gt, kind="gt")
        (seq / "seqinfo.ini").write_text(
            f"[Sequence]\nname={SEQ}\nimDir=img1\nframeRate=7\nseqLength=795\n"
            "imWidth=480\nimHeight=360\nimExt=.jpg\n"
        )
    return seq.parent


def cache_detections(data: Path, out: Path) -> Path:
    """YOLOX-nano boxes (score >= CACHE_SCORE) with their OSNet features, one row per detection."""
    cache = out / f"{SEQ}.npy"
    if cache.is_file():
        return cache
    video = data / "video" / "pets09_s2l1_view1.avi"
    config = load_config(
        TrackConfig,
        "pets09",
        [
            f"detector.weights={data / 'models' / 'yolox_nano.onnx'}",
            f"embedder.weights={data / 'models' / 'osnet_x0_25_msmt17.onnx'}",
            f"detector.score_min={CACHE_SCORE}",
        ],
        stage="track",
    )
    camera = discover_cameras(video)[0]
    detector = build_detector(config.detector, video, camera.name)
    embedder = build_embedder(config.embedder, video, camera.name)
    assert embedder is not None
    rows = []
    start = time.perf_counter()
    for frame in iter_frames(camera):
        dets = detector.detect([frame.image], [frame.index])[0]
        features = embedder.embed(frame.image, dets.boxes, frame.index)
        n = len(dets.boxes)
        head = np.column_stack([np.full(n, frame.index), -np.ones(n), dets.boxes, dets.scores])
        rows.append(np.hstack([head, features]))
    table = np.concatenate(rows)
    print(f"cached {len(table)} detections of {camera.name} in {time.perf_counter() - start:.0f} s: {cache}")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(cache, "wb", encoding=None) as f:
        np.save(f, table)
    return cache


def run_ours(
    tree: Path, cache: Path, out: Path, score: float, tracker: list[str], appearance: bool
) -> tuple[Path, float]:
    """Our tracker on the cached detections (and features): the MOT file and the association frames/s."""
    overrides = [
        "progress=false",
        f"cameras=[{SEQ}]",
        "detector.backend=precomputed",
        f"detector.source={cache}",
        f"detector.score_min={score}",
        "detector.nms_iou=null",  # the cache is already suppressed
        "embedder.backend=" + ("precomputed" if appearance else "none"),
        f"embedder.source={cache}",
        "save_crops=false",
        *tracker,
    ]
    config = load_config(TrackConfig, "pets09", overrides, stage="track")
    shutil.rmtree(out, ignore_errors=True)  # tracked again every time: its time is this run's, as the peer's
    result = run_track(tree, out, config)
    totals = result.store_totals
    return out / "mot" / f"{SEQ}.txt", totals.frames / totals.stage_seconds["track"]


def run_boxmot(cache: Path, video: Path, out: Path, score: float) -> tuple[Path, float] | None:
    """boxmot's StrongSORT (its defaults) on the same detections and features, or None without boxmot.
    It is given the video's frames too: it asks for them (its camera-motion compensation runs on them)."""
    try:
        import torch
        from boxmot import StrongSort
        from boxmot.structures.detections import Detections
        from boxmot.structures.geometry import Boxes
    except ImportError:
        return None
    table = np.load(cache)
    table = table[table[:, 6] >= score]
    tracker = StrongSort(min_conf=score, max_cos_dist=0.4)
    rows = []
    seconds = 0.0
    for image in iter_frames(discover_cameras(video)[0]):
        frame = image.index
        dets = table[table[:, 0] == frame]
        xyxy = np.hstack([dets[:, 2:4], dets[:, 2:4] + dets[:, 4:6]])
        detections = Detections(
            geometry=Boxes(torch.as_tensor(xyxy, dtype=torch.float32)),
            scores=torch.as_tensor(dets[:, 6], dtype=torch.float32),
            class_ids=torch.zeros(len(dets), dtype=torch.int64),
            sample_id=str(frame),
            embeddings=torch.as_tensor(dets[:, 7:], dtype=torch.float32),
        )
        start = time.perf_counter()
        tracks = tracker.update(detections, image.image)
        seconds += time.perf_counter() - start
        for box, track_id in zip(tracks.geometry.values.numpy(), tracks.track_ids.numpy(), strict=True):
            rows.append([frame, int(track_id), box[0], box[1], box[2] - box[0], box[3] - box[1], 1, -1, -1])
    result = out / "mot" / f"{SEQ}.txt"
    result.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=list(MOT_COLUMNS))
    write_mot(result, frame, kind="result")
    return result, int(table[:, 0].max()) / seconds


def scores(tree: Path, result: Path) -> pd.Series:
    report, _ = score_mot(tree / SEQ / "gt" / "gt.txt", result, MotEvalConfig(plots=False))
    return summary_frame(report).loc[COMBINED, COLUMNS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-appearance"))
    args = parser.parse_args()
    video = args.data / "video" / "pets09_s2l1_view1.avi"
    if not video.is_file():
        print(f"PETS09 video not found under {args.data}/video (--data or RFV_DATA)", file=sys.stderr)
        return 1
    tree = mot_tree(args.data, args.out)
    cache = cache_detections(args.data, args.out)
    table = []
    for score in THRESHOLDS:
        runs = {
            "ours (pets09 preset) + OSNet": ("ours", [], True),
            "ours, DeepSORT matching + OSNet": ("deepsort", DEEPSORT, True),
            "ours, motion only": ("motion", [], False),
        }
        for name, (folder, tracker, appearance) in runs.items():
            result, fps = run_ours(
                tree, cache, args.out / f"score{score}" / folder, score, tracker, appearance
            )
            table.append({"tracker": name, "score >=": score, **scores(tree, result), "frames/s": fps})
        peer = run_boxmot(cache, video, args.out / f"score{score}" / "boxmot-strongsort", score)
        if peer is None:
            print("boxmot is not installed (pip install boxmot): its StrongSORT is skipped")
        else:
            table.append({"tracker": "boxmot StrongSORT + OSNet", "score >=": score, **scores(tree, peer[0]),
                          "frames/s": peer[1]})  # fmt: skip
    frame = _formatted(pd.DataFrame(table))
    print(frame.to_string(index=False))
    ours = frame[frame.tracker.str.startswith("ours (")].set_index("score >=")
    peer = frame[frame.tracker.str.startswith("boxmot")].set_index("score >=")
    if len(peer):
        for score in peer.index:
            speed = float(ours.loc[score, "frames/s"]) / float(peer.loc[score, "frames/s"])
            better = all(float(ours.loc[score, k]) >= float(peer.loc[score, k]) for k in ("IDF1", "HOTA"))
            verdict = "yes" if better else "NO"
            print(f"score >= {score}: IDF1 and HOTA at least boxmot StrongSORT's: {verdict}; ", end="")
            print(f"association {speed:.1f}x its frames/s")
    print("\nwhich change did it (DeepSORT's matching + OSNet, then each of StrongSORT's changes):")
    ablation = []
    for score in THRESHOLDS:
        variants = {
            **{f"+ {name}": extra for name, extra in STRONGSORT_CHANGES.items()},
            "+ all four": ALL_FOUR,
            "+ all four + position-only gate": [*ALL_FOUR, "tracker.gating_dof=2"],
        }
        for k, (name, extra) in enumerate(variants.items()):
            folder = args.out / f"score{score}" / f"ablation{k}"
            result, fps = run_ours(tree, cache, folder, score, [*DEEPSORT, *extra], True)
            ablation.append({"variant": name, "score >=": score, **scores(tree, result), "frames/s": fps})
    print(_formatted(pd.DataFrame(ablation)).to_string(index=False))
    return 0


def _formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """The score table as printed: percentages and rates to a fixed number of decimals."""
    for column in ("MOTA", "IDF1", "HOTA"):
        frame[column] = (100 * frame[column]).map("{:.1f}".format)
    frame["IDSW"] = frame["IDSW"].astype(int)
    frame["rFM"] = frame["rFM"].map("{:.2f}".format)
    frame["rSW"] = frame["rSW"].map("{:.2f}".format)
    frame["frames/s"] = frame["frames/s"].map("{:.0f}".format)
    return frame


if __name__ == "__main__":
    sys.exit(main())
