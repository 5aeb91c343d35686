"""Benchmark: our DeepSORT against ultralytics' ByteTrack and BoT-SORT, fed the same YOLOX-X detections.

Detections: the ByteTrack ablation YOLOX-X on the 7 MOT17 train sequences; that model saw the first half of
each sequence, so every tracker runs and is scored on the second half only (frames > seqLength // 2, gt cut
the same way). Scored in the same run by `rfv mot-eval`: MOTA, IDF1, IDSW, rFM, rSW. Speed is association
only (the update calls, detections already in memory), one thread (BLAS/OpenMP pinned to 1 before numpy
loads), on MOT17-04 (the densest) and overall. Ultralytics trackers run with their shipped YAML settings;
BoT-SORT without camera-motion compensation and re-ID (no frames: gmc_method none, with_reid false).

    python benchmarks/bench_track_ultralytics.py [--data ../shared/data]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from ultralytics_peer import Dets, mot_rows, ultralytics_tracker  # noqa: E402

from reid_from_video.io.mot import MOT_COLUMNS, read_mot, read_seqinfo, write_mot  # noqa: E402
from reid_from_video.noise.config import MotEvalConfig  # noqa: E402
from reid_from_video.noise.mot_eval import COMBINED, score_mot  # noqa: E402
from reid_from_video.tracking.camera import Backfill  # noqa: E402
from rfv_trackers import DeepSort, DeepSortConfig  # noqa: E402

SEQUENCES = [f"MOT17-{n:02d}-SDP" for n in (2, 4, 5, 9, 10, 11, 13)]
OURS = {
    # DeepSORT, paper settings except max_age 60 and the back-fill (as -c mot17), detections >= 0.5
    "DeepSORT (ours)": (0.5, DeepSortConfig(max_age=60, output_missed=1, output_tentative=True)),
    # + ByteTrack-style second association of detections scoring 0.1 .. 0.6
    "DeepSORT+low (ours)": (
        0.1,
        DeepSortConfig(max_age=60, output_missed=1, output_tentative=True, low_score=0.6),
    ),
}


def load(data: Path, name: str) -> tuple[int, int, dict[int, np.ndarray]]:
    info = read_seqinfo(data / "mot17" / "train" / name)
    det = read_mot(data / "mot17" / "detections" / "yolox_x_ablation" / f"{name}.txt", kind="result")
    first = info.seq_length // 2 + 1
    det = det[det.frame >= first]
    by_frame = {k: g[["x", "y", "w", "h", "conf"]].to_numpy() for k, g in det.groupby("frame")}
    return first, info.seq_length, by_frame


def run_ours(frames: dict, first: int, last: int, fps: float, score_min: float, config: DeepSortConfig):
    tracker = DeepSort(config, fps=fps)
    rows, backfill, seconds = [], Backfill(), 0.0
    empty = np.zeros((0, 5))
    for k in range(first, last + 1):
        d = frames.get(k, empty)
        d = d[d[:, 4] >= score_min]
        t0 = time.perf_counter()
        out = tracker.update(d[:, :4], d[:, 4])
        seconds += time.perf_counter() - t0
        for i, box, ok in zip(out.ids, out.boxes, out.confirmed, strict=True):
            rows.extend(backfill.release(int(i), (k, int(i), *box, 1.0, -1, -1.0), ok))
    return rows, seconds


def run_ultralytics(kind: str, frames: dict, first: int, last: int, fps: float):
    settings = {"gmc_method": "none", "with_reid": False} if kind == "botsort" else {}
    tracker = ultralytics_tracker(kind, **settings)
    rows, seconds = [], 0.0
    empty = np.zeros((0, 5))
    for k in range(first, last + 1):
        d = frames.get(k, empty)
        dets = Dets.from_tlwh(d[:, :4], d[:, 4])
        t0 = time.perf_counter()
        out = tracker.update(dets)
        seconds += time.perf_counter() - t0
        rows.extend(mot_rows(k, out))
    return rows, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    args = parser.parse_args()
    if not (args.data / "mot17" / "detections").is_dir():
        print(f"YOLOX-X detections not found under {args.data}", file=sys.stderr)
        return 1
    names = [*OURS, "ByteTrack (ultralytics)", "BoT-SORT (ultralytics)"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        times = {n: {} for n in names}
        frames_count = {}
        for seq in SEQUENCES:
            first, last, frames = load(args.data, seq)
            frames_count[seq] = last - first + 1
            source = args.data / "mot17" / "train" / seq
            (root / "gt" / seq / "gt").mkdir(parents=True)
            gt = read_mot(source / "gt" / "gt.txt")
            write_mot(root / "gt" / seq / "gt" / "gt.txt", gt[gt.frame >= first], kind="gt")
            shutil.copy(source / "seqinfo.ini", root / "gt" / seq / "seqinfo.ini")
            fps = float(read_seqinfo(source).frame_rate)
            for name in names:
                if name in OURS:
                    rows, seconds = run_ours(frames, first, last, fps, *OURS[name])
                else:
                    kind = "bytetrack" if name.startswith("ByteTrack") else "botsort"
                    rows, seconds = run_ultralytics(kind, frames, first, last, fps)
                times[name][seq] = seconds
                table = pd.DataFrame(rows, columns=list(MOT_COLUMNS))
                write_mot(root / name.replace(" ", "_") / f"{seq}.txt", table)
        print(f"MOT17 train, second halves, YOLOX-X detections ({sum(frames_count.values())} frames):")
        print(f"{'tracker':26s}  MOTA  IDF1  IDSW   rFM   rSW  assoc. frames/s: all  MOT17-04")
        total = sum(frames_count.values())
        for name in names:
            report = score_mot(
                root / "gt", root / name.replace(" ", "_"), MotEvalConfig(plots=False, hota=False)
            )[0].to_json()
            clear, noise = report[COMBINED]["clear"], report[COMBINED]["noise"]
            all_fps = total / sum(times[name].values())
            fps04 = frames_count["MOT17-04-SDP"] / times[name]["MOT17-04-SDP"]
            print(
                f"{name:26s} {100 * clear['mota']:5.1f} {100 * clear['idf1']:5.1f}"
                f" {clear['num_switches']:5.0f} {noise['rfm']:5.2f} {noise['rsw']:5.2f}"
                f"  {all_fps:20.0f} {fps04:9.0f}"
            )
        ours04 = frames_count["MOT17-04-SDP"] / times["DeepSORT (ours)"]["MOT17-04-SDP"]
        bot04 = frames_count["MOT17-04-SDP"] / times["BoT-SORT (ultralytics)"]["MOT17-04-SDP"]
        print(
            f"\nMOT17-04, motion only: ours {ours04:.0f} frames/s, {ours04 / bot04:.1f}x ultralytics BoT-SORT"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
