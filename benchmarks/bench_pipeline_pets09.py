"""Benchmark: the whole per-camera path on real video (decode -> detect -> embed -> track), ours against
boxmot's StrongSORT and ultralytics' re-ID trackers end to end, on the same frames, the same detector and
the same re-ID file.

PETS09-S2L1 (the 480x360, 795-frame video of ``../shared/data/video``), YOLOX-nano (ONNX) and
OSNet-x0.25 MSMT17 (ONNX; both files have a fixed batch of 1), the ``pets09`` preset, in one process:

* ``ours, one stage after another, one item per call``: how ``rfv track`` ran before issue 21 (the ONNX
  files as they are: one frame per detector call, one crop per embedder call; no overlap);
* ``ours, one stage after another, batched``: the files' batch freed
  (:mod:`reid_from_video.core.onnx_session`), all crops of a frame in one call, ``detector.batch``
  frames per detector call; ``pipeline=false``;
* ``ours, pipelined, one frame at a time in the embedder``: the same, the stages overlapped in threads
  (``pipeline=true``; the default, ``pipeline=null``, overlaps them with a network model from 2 cores a
  worker or on a GPU), each frame's crops embedded on every core (``embedder.parallel_frames=1``);
* ``ours, pipelined``: the same with the default ``embedder.parallel_frames`` (0: on the CPU, one frame
  per core embedded at the same time, one thread each); the line after the table gives the ratio;
* ``boxmot StrongSORT, end to end`` (``pip install boxmot``): the same decoded frames and the same detector
  (one frame per call, as its examples run), boxmot's StrongSORT given the OSNet file as its re-ID model
  (its loader runs it one crop per call); its defaults, appearance gate 0.4. Skipped, with a line saying
  so, without boxmot.
* ``ultralytics botsort / deepocsort / tracktrack + OSNet, end to end`` (``pip install ultralytics``; its
  trackers that take a re-ID model): the same frames and detector, each tracker with its shipped YAML and
  ``with_reid: true``, ``model:`` the OSNet file with its ImageNet normalisation written into the graph and
  its batch freed (:mod:`ultralytics_peer`: ultralytics' loader feeds 0..1 RGB), all crops of a frame in
  one call; the crops are its own (``save_one_box``'s margin, torch's bilinear resize). Skipped without
  ultralytics.

Ours also writes the crops and the tracklet store (the peer writes nothing), so the comparison is
conservative. Every output is scored against the MOT15 ground truth (scaled by 0.625 to the video). The
frames/s are wall time over the frames, best of ``--rounds``; they vary with the machine and its load, the
ratios less; MOTA and IDF1 are deterministic on one machine.

    pip install boxmot ultralytics     # the peers (optional)
    python benchmarks/bench_pipeline_pets09.py [--data ../shared/data] [--out runs/bench-pipeline]
        [--rounds N]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_appearance_pets09 import mot_tree, scores  # noqa: E402  (benchmarks/ is on the path as a script)
from ultralytics_peer import Dets, installed, mot_rows, osnet_for_ultralytics, ultralytics_tracker

from reid_from_video.core import onnx_session
from reid_from_video.core.config import load_config
from reid_from_video.detect.registry import build_detector
from reid_from_video.io.mot import MOT_COLUMNS, write_mot
from reid_from_video.io.video import discover_cameras, iter_frames
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.result import TrackResult
from reid_from_video.tracking.run import run_track

VIDEO = "video/pets09_s2l1_view1.avi"
BOXMOT_GATE = 0.4  # StrongSORT's published appearance gate (boxmot's own default is 0.2)


@contextlib.contextmanager
def pinned_batches() -> Iterator[None]:
    """ONNX files opened as they are (a fixed batch of 1 stays 1), as before the batch axis was freed."""
    original = onnx_session.open_onnx
    onnx_session.open_onnx = functools.partial(original, free_batch=False)
    try:
        yield
    finally:
        onnx_session.open_onnx = original


def track_config(data: Path, *overrides: str) -> TrackConfig:
    models = data / "models"
    paths = [
        f"detector.weights={models / 'yolox_nano.onnx'}",
        f"embedder.weights={models / 'osnet_x0_25_msmt17.onnx'}",
    ]
    return load_config(TrackConfig, "pets09", [*paths, "progress=false", *overrides], stage="track")


def run_ours(
    video: Path, data: Path, out: Path, overrides: list[str], pinned: bool
) -> tuple[Path, float, dict]:
    """``rfv track`` on ``video``: the MOT file, the overall frames/s and the per-stage frames/s."""
    shutil.rmtree(out, ignore_errors=True)
    config = track_config(data, *overrides)
    with pinned_batches() if pinned else contextlib.nullcontext():
        start = time.perf_counter()
        run_track(video, out, config)
        seconds = time.perf_counter() - start
    camera = TrackResult.read(out).cameras[0]
    stages = {k: round(v) for k, v in camera.stage_frames_per_s.items()}
    return out / "mot" / f"{video.stem}.txt", camera.frames / seconds, stages


def run_peer(
    video: Path, data: Path, out: Path, make_tracker: Callable, step: Callable, settings: tuple[str, ...] = ()
) -> tuple[Path, float]:
    """A peer's tracker after our detector on ``video``, frame by frame (one frame per detector call, as
    the peers' examples run): ``make_tracker(config)`` builds it, ``step(tracker, frame, found)`` gives a
    frame's MOT rows. ``settings``: overrides of the track config the detector is built from. The MOT file
    and the frames/s, building the detector and the tracker included."""
    config = track_config(data, *settings, "detector.batch=1")
    camera = discover_cameras(video)[0]
    start = time.perf_counter()
    detector = build_detector(config.detector, camera.path, camera.name)
    tracker = make_tracker(config)
    rows, frames = [], 0
    for frame in iter_frames(camera):
        rows.extend(step(tracker, frame, detector.detect([frame.image], [frame.index])[0]))
        frames += 1
    seconds = time.perf_counter() - start
    result = out / "mot" / f"{video.stem}.txt"
    result.parent.mkdir(parents=True, exist_ok=True)
    write_mot(result, pd.DataFrame(rows, columns=list(MOT_COLUMNS)), kind="result")
    return result, frames / seconds


def run_boxmot(
    video: Path, data: Path, out: Path, settings: tuple[str, ...] = ()
) -> tuple[Path, float] | None:
    """boxmot's StrongSORT with the OSNet file as its re-ID model."""
    try:
        import torch
        from boxmot import StrongSort
        from boxmot.structures.detections import Detections
        from boxmot.structures.geometry import Boxes
    except ImportError:
        return None
    reid = data / "models" / "osnet_x0_25_msmt17.onnx"

    def make(config: TrackConfig) -> StrongSort:
        return StrongSort(min_conf=config.detector.score_min, max_cos_dist=BOXMOT_GATE, reid_weights=reid)

    def step(tracker: StrongSort, frame, found) -> list[list]:
        xyxy = np.hstack([found.boxes[:, :2], found.boxes[:, :2] + found.boxes[:, 2:]])
        detections = Detections(
            geometry=Boxes(torch.as_tensor(xyxy, dtype=torch.float32)),
            scores=torch.as_tensor(found.scores, dtype=torch.float32),
            class_ids=torch.zeros(len(xyxy), dtype=torch.int64),
            sample_id=str(frame.index),
        )
        tracks = tracker.update(detections, frame.image)
        return [
            [frame.index, int(track_id), box[0], box[1], box[2] - box[0], box[3] - box[1], 1, -1, -1]
            for box, track_id in zip(tracks.geometry.values.numpy(), tracks.track_ids.numpy(), strict=True)
        ]

    return run_peer(video, data, out, make, step, settings)


def run_ultralytics(video: Path, data: Path, out: Path, kind: str) -> tuple[Path, float] | None:
    """ultralytics' tracker ``kind`` (botsort, deepocsort, tracktrack: its trackers with re-ID) with its
    shipped settings, re-ID on, the OSNet file as its re-ID model (normalisation inside, batch freed:
    :mod:`ultralytics_peer`)."""
    if not installed():
        return None
    reid = osnet_for_ultralytics(data / "models" / "osnet_x0_25_msmt17.onnx", out / "osnet_x0_25_msmt17.onnx")

    def make(config: TrackConfig) -> Any:
        return ultralytics_tracker(kind, with_reid=True, model=str(reid), device="cpu")

    def step(tracker: Any, frame, found) -> list[list]:
        return mot_rows(frame.index, tracker.update(Dets.from_tlwh(found.boxes, found.scores), frame.image))

    return run_peer(video, data, out, make, step)


def mot_scores(tree: Path, result: Path) -> dict[str, float]:
    """MOTA, IDF1 (%) and identity switches, scored as bench_appearance_pets09 scores."""
    row = scores(tree, result)
    return {
        "MOTA": round(100 * row["MOTA"], 1),
        "IDF1": round(100 * row["IDF1"], 1),
        "IDSW": int(row["IDSW"]),
    }


ULTRALYTICS = ("botsort", "deepocsort", "tracktrack")  # its trackers that take a re-ID model
TRACKTRACK_ROW = "ours, batched, detections >= 0.6"
PIPELINED_ONE_FRAME = "ours, pipelined, one frame at a time in the embedder"
PIPELINED = "ours, pipelined"
OURS = {  # name: (overrides, ONNX batches pinned at 1)
    "ours, one stage after another, one item per call": (["pipeline=false", "detector.batch=1"], True),
    "ours, one stage after another, batched": (["pipeline=false"], False),
    PIPELINED_ONE_FRAME: (["pipeline=true", "embedder.parallel_frames=1"], False),
    PIPELINED: (["pipeline=true"], False),
    # TrackTrack's shipped high-score threshold: its figures are those of detections >= 0.6 (and a second
    # stage on 0.25 .. 0.6), so ours at 0.6 is the like-for-like row
    TRACKTRACK_ROW: (["pipeline=false", "detector.score_min=0.6"], False),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-pipeline"))
    parser.add_argument("--rounds", type=int, default=1, help="runs of each row; the best frames/s is kept")
    args = parser.parse_args()
    if not (args.data / VIDEO).is_file():
        print(f"PETS09 video not found: {args.data / VIDEO} (--data or RFV_DATA)", file=sys.stderr)
        return 1
    tree, video = mot_tree(args.data, args.out), args.data / VIDEO
    rows: dict[str, dict] = {}
    print(f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f} at the start")
    for round_ in range(args.rounds):
        for k, (name, (overrides, pinned)) in enumerate(OURS.items()):
            result, fps, stages = run_ours(video, args.data, args.out / f"ours{k}", overrides, pinned)
            if name not in rows or fps > rows[name]["frames/s"]:
                rows[name] = {**mot_scores(tree, result), "frames/s": fps, "stage frames/s": stages}
        peer = run_boxmot(video, args.data, args.out / "boxmot")
        if peer is None:
            if round_ == 0:
                print("boxmot is not installed (pip install boxmot): its StrongSORT is skipped")
        else:
            name = "boxmot StrongSORT + OSNet, end to end"
            if name not in rows or peer[1] > rows[name]["frames/s"]:
                rows[name] = {**mot_scores(tree, peer[0]), "frames/s": peer[1], "stage frames/s": {}}
        for kind in ULTRALYTICS:
            peer = run_ultralytics(video, args.data, args.out / f"ultralytics-{kind}", kind)
            if peer is None:
                if round_ == 0:
                    print("ultralytics is not installed (pip install ultralytics): its trackers are skipped")
                break
            name = f"ultralytics {kind} + OSNet, end to end"
            if name not in rows or peer[1] > rows[name]["frames/s"]:
                rows[name] = {**mot_scores(tree, peer[0]), "frames/s": peer[1], "stage frames/s": {}}
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["frames/s"] = table["frames/s"].map("{:.1f}".format)
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(table.to_string())
    fps = {name: float(row["frames/s"]) for name, row in table.iterrows()}
    before = fps.pop("ours, one stage after another, one item per call")
    peers = {name: fps.pop(name) for name in list(fps) if name.startswith(("boxmot", "ultralytics"))}
    for name, value in fps.items():
        against = [f"{value / before:.2f}x one item per call"]
        against += [f"{value / peer:.2f}x {peer_name}" for peer_name, peer in peers.items()]
        print(f"{name}: {value:.1f} frames/s; " + ", ".join(against))
    print(parallel_frames_gain(fps))
    return 0


def parallel_frames_gain(fps: dict[str, float]) -> str:
    """The line comparing the pipelined rows: frames embedded side by side against one at a time."""
    ratio = fps[PIPELINED] / fps[PIPELINED_ONE_FRAME]
    return f"embedder.parallel_frames default against 1, both pipelined: {ratio:.2f}x"


if __name__ == "__main__":
    raise SystemExit(main())
