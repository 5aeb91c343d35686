"""Benchmark: our DeepSORT against the reference DeepSORT outputs (nwojke) on MOT17 train, FRCNN detections.

1. All 7 sequences, public detections, motion only (`rfv track -c mot17`), scored like the reference.
2. Sequences 05 and 09 with the original deep_sort appearance features (deep_sort .npy files: the same
   detections with the mars-small128 CNN's 128-d features), against the reference on the same sequences;
   also with StrongSORT's matching (``configs/trackers/strongsort.yaml``'s four keys), a check on other data
   of the matching the real-video presets use; and, where ultralytics is installed, its three re-ID
   trackers (BoT-SORT, Deep OC-SORT, TrackTrack: shipped YAML, ``with_reid: true``, ``model: auto``) given
   the same detections (scores >= the preset's 0.5) and the same features, without camera-motion
   compensation (no frames: ``gmc_method: none``), with their association time.

Both sides are scored in the same run by `rfv mot-eval` (MOTChallenge preprocessing). Prints MOTA, IDF1,
HOTA, IDSW, rFM, rSW per side, and the tracking time.

    python benchmarks/bench_track_mot17.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from ultralytics_peer import Dets, installed, mot_rows, ultralytics_tracker

from reid_from_video.core.config import load_config
from reid_from_video.io.mot import MOT_COLUMNS, read_seqinfo, write_mot
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import COMBINED, score_mot, summary_frame
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

SEQUENCES = [f"MOT17-{n:02d}-FRCNN" for n in (2, 4, 5, 9, 10, 11, 13)]
WITH_FEATURES = ["MOT17-05-FRCNN", "MOT17-09-FRCNN"]
STRONGSORT = {"matching": "global", "appearance_memory": "ema", "lambda_motion": 0.02, "nsa_kalman": True}


def combined(gt: Path, results: Path, seqs: list[str]) -> pd.Series:
    """The COMBINED row of `rfv mot-eval`'s summary table (MOTA, IDF1, HOTA, IDSW, rFM, rSW, ...)."""
    report, _ = score_mot(gt, results, MotEvalConfig(seqs=seqs, plots=False))
    return summary_frame(report).loc[COMBINED]


ULTRALYTICS = ("botsort", "deepocsort", "tracktrack")  # its trackers that take re-ID features
SCORE_MIN = 0.5  # the mot17 preset's detector.score_min


def run_ultralytics(kind: str, gt: Path, features: Path, out: Path) -> tuple[int, float] | None:
    """ultralytics' ``kind`` on WITH_FEATURES with the deep_sort detections and features given per frame
    (``model: auto``); MOT files in ``out``; (frames, seconds in its update calls), or None without it."""
    if not installed():
        return None
    frames, seconds = 0, 0.0
    for seq in WITH_FEATURES:
        tracker = ultralytics_tracker(kind, with_reid=True, model="auto", gmc_method="none")
        table = np.load(features / f"{seq}.npy")  # frame, -1, x, y, w, h, score, 128 features
        table = table[table[:, 6] >= SCORE_MIN]
        by_frame = {int(k): table[table[:, 0] == k] for k in np.unique(table[:, 0])}
        rows, empty = [], np.zeros((0, table.shape[1]))
        for k in range(1, read_seqinfo(gt / seq).seq_length + 1):
            d = by_frame.get(k, empty)
            start = time.perf_counter()
            tracks = tracker.update(
                Dets.from_tlwh(d[:, 2:6], d[:, 6]), None, feats=d[:, 7:].astype(np.float32)
            )
            seconds += time.perf_counter() - start
            rows.extend(mot_rows(k, tracks))
            frames += 1
        write_mot(out / f"{seq}.txt", pd.DataFrame(rows, columns=list(MOT_COLUMNS)), kind="result")
    return frames, seconds


def row(name: str, m: pd.Series) -> str:
    return (
        f"{name:30s} MOTA {100 * m['MOTA']:5.1f}  IDF1 {100 * m['IDF1']:5.1f}  HOTA {100 * m['HOTA']:5.1f}"
        f"  IDSW {m['IDSW']:4.0f}  rFM {m['rFM']:.3f}  rSW {m['rSW']:.3f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    args = parser.parse_args()
    gt = args.data / "mot17" / "train"
    reference = args.data / "mot17" / "trackers" / "deepsort"
    features = args.data / "mot17" / "deepsort_features"
    if not gt.is_dir():
        print(f"MOT17 data not found at {gt}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        motion = load_config(TrackConfig, "mot17", ["progress=false", f"cameras={SEQUENCES}"], stage="track")
        summary = run_track(gt, out / "motion", motion)
        appearance = load_config(
            TrackConfig,
            "mot17",
            [
                "progress=false",
                f"cameras={WITH_FEATURES}",
                "detector.source=" + str(features / "{name}.npy"),
                "embedder.backend=precomputed",
                "embedder.source=" + str(features / "{name}.npy"),
            ],
            stage="track",
        )
        summary_f = run_track(gt, out / "appearance", appearance)
        strong_tracker = dataclasses.replace(appearance.tracker, **STRONGSORT)
        strong = dataclasses.replace(appearance, tracker=strong_tracker)
        run_track(gt, out / "strongsort", strong)
        print("7 MOT17 FRCNN train sequences, public detections (combined):")
        ref_all = combined(gt, reference, SEQUENCES)
        ours_all = combined(gt, out / "motion" / "mot", SEQUENCES)
        print(row("reference DeepSORT outputs", ref_all))
        print(row("ours, motion only (-c mot17)", ours_all))
        print("\nMOT17-05 + 09 with the deep_sort appearance features (combined):")
        ref_f = combined(gt, reference, WITH_FEATURES)
        ours_f = combined(gt, out / "appearance" / "mot", WITH_FEATURES)
        print(row("reference DeepSORT outputs", ref_f))
        print(row("ours, deep_sort features", ours_f))
        print(row("ours, + StrongSORT's matching", combined(gt, out / "strongsort" / "mot", WITH_FEATURES)))
        peers = {}
        for kind in ULTRALYTICS:
            peer = run_ultralytics(kind, gt, features, out / kind)
            if peer is None:
                print("ultralytics is not installed (pip install ultralytics): its trackers are skipped")
                break
            peers[kind] = peer
            print(row(f"ultralytics {kind}, same features", combined(gt, out / kind, WITH_FEATURES)))
        for name, s in (("motion only", summary), ("appearance", summary_f)):
            frames = s.totals.frames
            seconds = s.totals.stage_seconds["track"]
            print(
                f"tracking time, {name}: {frames} frames in {seconds:.2f} s = {frames / seconds:.0f} frames/s"
            )
        for kind, (frames, seconds) in peers.items():
            print(
                f"association time, ultralytics {kind}: {frames} frames in {seconds:.2f} s"
                f" = {frames / seconds:.0f} frames/s"
            )
        ok = all(
            ours[k] >= ref[k]
            for ours, ref in ((ours_all, ref_all), (ours_f, ref_f))
            for k in ("MOTA", "IDF1")
        )
        print("\nMOTA and IDF1 at least the reference's:", "yes" if ok else "NO")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
