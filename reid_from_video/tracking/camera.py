"""One camera through detect -> embed -> track, writing its MOTChallenge file and its tracklet-store part."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reid_from_video.core.background import in_background, in_threads
from reid_from_video.core.device import cpu_cores, resolve_device
from reid_from_video.detect import build_detector
from reid_from_video.detect.base import Detector
from reid_from_video.embed import Embedder, build_embedder
from reid_from_video.embed.base import EmbedderConfig
from reid_from_video.io.mot import MOT_COLUMNS, write_mot
from reid_from_video.io.store import CameraWriter, TrackletStore
from reid_from_video.io.video import Camera, iter_frames
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.record import CameraRecord, write_record
from reid_from_video.tracking.result import CameraResult
from rfv_trackers import DeepSort, DeepSortConfig

log = logging.getLogger(__name__)

STAGES = ("read", "detect", "embed", "track", "write")
PIPELINE_DEPTH = 4  # items a stage may run ahead of the next (detector batches, then frames)


@dataclass(frozen=True)
class Source:
    """A camera to track: a decodable Camera, or (frameless MOT mode) a sequence known by its seqinfo."""

    name: str
    path: Path
    fps: float
    frame_count: int
    camera: Camera | None = None


def frames_of(source: Source, config: TrackConfig, needs_pixels: bool) -> Iterator[tuple[int, float, object]]:
    """(index, time_s, image or None): decoded frames, or only indices when no stage needs pixels."""
    if needs_pixels:
        assert source.camera is not None
        video = config.video
        yield from iter_frames(source.camera, video.stride, video.start_s, video.end_s)
        return
    video = config.video
    for index in range(1, source.frame_count + 1, video.stride):
        time_s = (index - 1) / source.fps
        if video.start_s is not None and time_s < video.start_s:
            continue
        if video.end_s is not None and time_s >= video.end_s:
            break
        yield index, time_s, None


def _batches(frames: Iterator, size: int) -> Iterator[list]:
    batch: list = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _timed(items: Iterator, times: dict[str, float], stage: str) -> Iterator:
    """``items``, with the time spent making each added to ``times[stage]``."""
    while True:
        t0 = time.perf_counter()
        item = next(items, None)
        times[stage] += time.perf_counter() - t0
        if item is None:
            return
        yield item


def _detected(batches: Iterable[list], detector: Detector, times: dict[str, float]) -> Iterator[tuple]:
    """(index, time_s, image, boxes, scores) per frame."""
    for batch in batches:
        t0 = time.perf_counter()
        detections = detector.detect([f[2] for f in batch], [f[0] for f in batch])
        times["detect"] += time.perf_counter() - t0
        for (index, time_s, image), (boxes, scores) in zip(batch, detections, strict=True):
            yield index, time_s, image, boxes, scores


def _embedded(
    frames: Iterable[tuple], embedder: Embedder | None, times: dict[str, float], parallel: int = 1
) -> Iterator[tuple]:
    """(index, time_s, image, boxes, scores, features or None) per frame: all boxes of a frame in one call.

    With ``parallel`` > 1, that many frames are embedded at the same time by a pool of threads (the model
    releases the GIL), in order; ``times["embed"]`` sums the calls' own times."""

    def embed(frame: tuple) -> tuple[tuple, float]:
        index, time_s, image, boxes, scores = frame
        t0 = time.perf_counter()
        features = None if embedder is None or not len(boxes) else embedder.embed(image, boxes, index)
        return (index, time_s, image, boxes, scores, features), time.perf_counter() - t0

    results = map(embed, frames) if parallel <= 1 else in_threads(embed, frames, parallel, "embed")
    for item, seconds in results:
        times["embed"] += seconds
        yield item


def _tracked(
    frames: Iterable[tuple],
    tracker: DeepSort,
    config: TrackConfig,
    counts: dict[str, int],
    times: dict[str, float],
) -> Iterator[list[tuple]]:
    """Per frame, the rows ready to write (a confirmed track's row, with the tentative rows it releases)."""
    backfill = Backfill(config.backfill)
    for index, time_s, image, boxes, scores, features in frames:
        t0 = time.perf_counter()
        result = tracker.update(boxes, scores, features)
        ready: list[tuple] = []
        for track_id, box, score, det, confirmed in zip(
            result.ids, result.boxes, result.scores, result.det_index, result.confirmed, strict=True
        ):
            written = boxes[det] if det >= 0 and config.output_box == "detection" else box
            crop_box = boxes[det] if det >= 0 else None  # crops of real detections only
            feature = features[det] if det >= 0 and features is not None else None
            row = (index, int(track_id), time_s, *written, float(score), crop_box, image, feature)
            ready.extend(backfill.release(int(track_id), row, confirmed))
        if len(backfill.pending) > 4 * len(tracker.tracks) + 16:  # rows of tracks that died tentative
            backfill.keep_only({t.track_id for t in tracker.tracks})
        counts["frames"] += 1
        counts["detections"] += len(boxes)
        times["track"] += time.perf_counter() - t0
        yield ready


# Cores per worker for pipeline=null to overlap the stages on the CPU: with a network model, and without.
NETWORK_PIPELINE_MIN_CORES, PIPELINE_MIN_CORES = 2, 4
NETWORK_BACKENDS = ("yolo", "yolox", "onnx", "torch")  # detector / embedder backends that can use a GPU


def how_stages_run(config: TrackConfig, cores: int | None = None) -> TrackConfig:
    """``config`` with its automatic settings made definite for a camera given ``cores`` CPU cores (None:
    the machine's shared among the ``workers``): ``pipeline`` (null: overlap when a network model runs on a
    GPU or with ``NETWORK_PIPELINE_MIN_CORES`` cores, or, without one, the camera has ``PIPELINE_MIN_CORES``),
    ``detector.threads`` / ``embedder.threads`` (0: the camera's cores), ``embedder.parallel_frames`` (0:
    see :func:`_parallel_frames`), and, when the stages overlap, spin-waiting off: each model may then use
    every core while the other waits, and an idle one gives them back. (Measured on 2 cores,
    benchmarks/bench_pipeline_pets09.py and bench_pipeline_crowd.py: splitting the cores between detector
    and embedder starves the embedder, the slowest stage; spinning threads of the waiting model take the
    cores from the working one; with both models on both cores the overlap hides the decoding, cropping and
    crop writing behind the networks: 1.03x to 1.30x on PETS09 on two boxes (one loaded first box: 0.94x),
    1.20x on a 1080p crowd. Background subtraction and histograms gain nothing from it on 2 cores.)"""
    share = max(1, cores if cores is not None else cpu_cores() // config.workers)
    pipeline = config.pipeline
    if pipeline is None:
        models = [s for s in (config.detector, config.embedder) if s.backend in NETWORK_BACKENDS]
        on_gpu = any(resolve_device(s.device).startswith("cuda") for s in models)  # imports torch for auto
        pipeline = on_gpu or share >= (NETWORK_PIPELINE_MIN_CORES if models else PIPELINE_MIN_CORES)
    sections = {}
    for name in ("detector", "embedder"):
        section = getattr(config, name)
        changes = {} if section.threads else {"threads": share}
        if pipeline:
            changes["spin"] = False
        if name == "embedder":
            changes.update(_parallel_frames(section, pipeline, share))
        sections[name] = dataclasses.replace(section, **changes)
    return dataclasses.replace(config, pipeline=pipeline, **sections)


def _parallel_frames(embedder: EmbedderConfig, pipeline: bool, share: int) -> dict[str, int]:
    """The changes that make ``embedder.parallel_frames`` definite. Automatic (0): an ONNX embedder on the
    CPU in an overlapped pipeline embeds ``share`` frames at once with one thread each (``share //
    threads`` frames when ``embedder.threads`` is set); else one frame at a time. Single-threaded calls
    side by side keep both cores busy while the decoder, the detector's pre- and post-processing and the
    crop writer take turns on them, where one two-threaded call waits for its slower thread at every layer
    (bench_pipeline_crowd.py's two pipelined rows). The outputs are the same (tests/test_track_pipeline.py).
    """
    if embedder.parallel_frames:
        return {}
    on_cpu = embedder.backend == "onnx" and not resolve_device(embedder.device).startswith("cuda")
    if not (pipeline and on_cpu):
        return {"parallel_frames": 1}
    if embedder.threads:
        return {"parallel_frames": max(1, share // embedder.threads)}
    return {"threads": 1, "parallel_frames": share}


def track_camera(
    source: Source,
    config: TrackConfig,
    out: Path,
    record: CameraRecord,
    position: int = 0,
    cores: int | None = None,
) -> CameraResult:
    """Track one camera; write ``out/mot/<camera>.txt``, its ``record`` (with the result) and its store part
    (which marks it complete).

    The stages run as a chain of generators, each in a thread of its own when they overlap (see
    :func:`how_stages_run` and :mod:`reid_from_video.core.background`); this thread writes. A stage's time
    is its own work, not its waiting, so with overlap the stages' times add up to more than the camera's
    wall time. ``cores``: the CPU cores this camera may use (None: the machine's shared among the workers)."""
    from tqdm import tqdm

    times: dict[str, float] = defaultdict(float)
    start = time.perf_counter()
    config = how_stages_run(config, cores)
    detector = build_detector(config.detector, source.path, source.name)
    embedder = build_embedder(config.embedder, source.path, source.name)
    times["setup"] = time.perf_counter() - start
    needs_pixels = detector.needs_pixels or (embedder is not None and embedder.needs_pixels)
    needs_pixels = needs_pixels or config.save_crops
    tracker_config, gate_source = tracker_settings(config, embedder)
    tracker = DeepSort(tracker_config, fps=source.fps)
    store = TrackletStore(out)
    writer = store.camera_writer(source.name, config.crops, stored_identity(embedder, config, source.name))
    rows: list[tuple] = []
    counts = {"frames": 0, "detections": 0, "crops": 0}
    bar = tqdm(
        total=source.frame_count // config.video.stride,
        desc=source.name,
        unit="frame",
        position=position,
        leave=True,
        disable=not config.progress,
    )

    def stage(items: Iterable, name: str) -> Iterator:
        if not config.pipeline:
            return iter(items)
        return in_background(items, PIPELINE_DEPTH, f"{source.name}:{name}")

    frames = _timed(frames_of(source, config, needs_pixels), times, "read")
    batches = stage(_batches(frames, config.detector.batch), "read")
    detected = stage(_detected(batches, detector, times), "detect")
    embedded = stage(_embedded(detected, embedder, times, config.embedder.parallel_frames), "embed")
    for ready in stage(_tracked(embedded, tracker, config, counts, times), "track"):
        t0 = time.perf_counter()
        for row in ready:
            counts["crops"] += _write(row, rows, writer, config.save_crops)
        times["write"] += time.perf_counter() - t0
        bar.update(1)
        if bar.n % config.detector.batch == 0:
            bar.set_postfix(fps=f"{bar.n / max(time.perf_counter() - start, 1e-9):.1f}")
    bar.close()
    t0 = time.perf_counter()
    table = pd.DataFrame(rows, columns=list(MOT_COLUMNS))
    write_mot(out / "mot" / f"{source.name}.txt", table.sort_values(["frame", "id"], kind="stable"))
    times["write"] += time.perf_counter() - t0
    elapsed = time.perf_counter() - start
    result = CameraResult(
        camera=source.name,
        **counts,
        boxes=len(table),
        tracks=int(table["id"].nunique()),
        seconds=elapsed,
        frames_per_s=counts["frames"] / elapsed if elapsed else None,
        stage_seconds=dict(times),
        stage_frames_per_s={k: counts["frames"] / v for k, v in times.items() if k in STAGES and v > 0},
        appearance_gate=tracker_config.max_cosine_distance if embedder is not None else None,
        gate_source=gate_source,
    )
    write_record(
        out, dataclasses.replace(record, result=result)
    )  # before the part: a complete camera has one
    writer.close()
    return result


def tracker_settings(config: TrackConfig, embedder: Embedder | None) -> tuple[DeepSortConfig, str | None]:
    """The tracker's settings for this embedder, and where its appearance gate comes from: the model
    card's calibrated gate (``embedder.calibrated_gate``) where it has one, else
    ``tracker.max_cosine_distance``; None without appearance features."""
    if embedder is None:
        return config.tracker, None
    gate = embedder.appearance_gate
    if gate is None or not config.embedder.calibrated_gate:
        return config.tracker, "tracker.max_cosine_distance"
    if gate != config.tracker.max_cosine_distance:
        log.info(
            "appearance gate %.3f from the model card of %s (tracker.max_cosine_distance %.3f not used; "
            "embedder.calibrated_gate=false keeps it)",
            gate,
            config.embedder.weights,
            config.tracker.max_cosine_distance,
        )
    return dataclasses.replace(config.tracker, max_cosine_distance=gate), "model card"


class Backfill:
    """Rows of tentative tracks held back, released (oldest first) with the row that confirms the track."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.pending: dict[int, list] = {}

    def release(self, track_id: int, row: object, confirmed: bool) -> list:
        """The rows to write now: none for a tentative track, else its held rows and ``row``."""
        if not confirmed:
            if self.enabled:
                self.pending.setdefault(track_id, []).append(row)
            return []
        return [*self.pending.pop(track_id, []), row]

    def keep_only(self, alive: set[int]) -> None:
        """Forget the rows of tracks no longer alive (deleted while tentative)."""
        self.pending = {k: v for k, v in self.pending.items() if k in alive}


def _write(row: tuple, rows: list[tuple], writer: CameraWriter, save_crops: bool) -> int:
    index, track_id, time_s, x, y, w, h, score, crop_box, image, feature = row
    rows.append((index, track_id, x, y, w, h, score, -1, -1.0))
    if save_crops and crop_box is not None and image is not None:
        box = tuple(map(float, crop_box))
        return int(writer.add(track_id, index, time_s, box, score, image, feature=feature))
    return 0


def stored_identity(embedder: Embedder | None, config: TrackConfig, camera: str) -> dict[str, Any] | None:
    """The identity of the features to keep in the store with the crops, or None when none are kept: no
    crops, no embedder that a crop alone feeds, or saved crops that show more than the embedded box."""
    if not config.save_crops or embedder is None or embedder.identity is None:
        return None
    if config.crops.padding:
        log.info(
            "%s: appearance features not stored: crops.padding makes the saved crops show more than the "
            "boxes the embedder saw (rfv label will embed the crops)",
            camera,
        )
        return None
    return embedder.identity


def as_source(camera: Camera) -> Source:
    return Source(camera.name, camera.path, camera.fps, camera.frame_count, camera)


def frameless_source(name: str, path: Path, fps: float, frame_count: int) -> Source:
    return Source(name, path, fps, frame_count, None)
