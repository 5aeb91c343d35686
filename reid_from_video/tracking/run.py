"""``rfv track``: every camera of a folder, in parallel processes, sharded, resumable, with a summary."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import time
from pathlib import Path

from reid_from_video.core.config import save_config
from reid_from_video.core.errors import InputError
from reid_from_video.core.fingerprint import tree_fingerprint
from reid_from_video.core.inputs import require_inputs
from reid_from_video.core.lock import output_lock
from reid_from_video.core.signals import terminate_as_interrupt, worker_signals
from reid_from_video.detect.family import with_onnx_backend
from reid_from_video.detect.registry import PIXEL_FREE
from reid_from_video.io.mot import find_sequences, read_seqinfo
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.video import discover_cameras
from reid_from_video.tracking.camera import Source, as_source, frameless_source, track_camera
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.inputs import track_inputs
from reid_from_video.tracking.record import CameraRecord, camera_settings, plan
from reid_from_video.tracking.result import CameraResult, TrackResult

log = logging.getLogger(__name__)
# The store's folders with atomically written files: a killed run's temporaries there are removed.
STORE_FOLDERS = ("index", "mot", "features", "cameras")


def needs_frames(config: TrackConfig) -> bool:
    """Whether any stage looks at pixels; if none does, a MOT tree without images can be tracked."""
    pixel_free_embedder = config.embedder.backend in ("none", "precomputed")
    return config.detector.backend not in PIXEL_FREE or not pixel_free_embedder or config.save_crops


def find_sources(path: Path, config: TrackConfig) -> list[Source]:
    """The cameras at ``path``: decodable cameras, or MOT sequences by seqinfo.ini when no stage needs
    frames (precomputed detections, no or precomputed features, no crops)."""
    if needs_frames(config):
        sources = [as_source(c) for c in discover_cameras(path, fps=config.video.fps)]
    else:
        sources = []
        for name, folder in find_sequences(path).items():
            info = read_seqinfo(folder)
            sources.append(frameless_source(name, folder, float(info.frame_rate), info.seq_length))
    if config.cameras:
        missing = sorted(set(config.cameras) - {s.name for s in sources})
        if missing:
            raise InputError(path, f"cameras not found: {', '.join(missing)}")
        sources = [s for s in sources if s.name in config.cameras]
    index, count = config.shard_index()
    return sources[index::count]


def run_track(path: str | Path, out: str | Path, config: TrackConfig) -> TrackResult:
    """Track every camera of this shard not yet complete in ``out`` (or whose input changed); write
    ``out/summary.json``. ``out`` is locked while it runs; SIGTERM stops it as Ctrl-C does, workers too."""
    path, out = Path(path), Path(out)
    start = time.perf_counter()
    require_inputs(track_inputs(config))  # a missing model fails now, not at the first camera
    config = dataclasses.replace(config, detector=with_onnx_backend(config.detector, announce=True))
    sources = find_sources(path, config)
    with output_lock(out, clean=STORE_FOLDERS), terminate_as_interrupt():
        todo = plan(out, sources, config)
        save_config(config, out)  # after plan: the folder's cameras are all made with this config
        if todo.done:
            log.info("resuming: %d camera(s) already complete: %s", len(todo.done), ", ".join(todo.done))
        cameras = _track_all(todo.todo, config, out)
        store = TrackletStore(out)
        if store.complete_cameras():
            store.finalize()
        else:
            store.index_path.unlink(missing_ok=True)  # overwrite=true may have deleted every camera
        result = TrackResult.of(str(path), cameras, todo.done, time.perf_counter() - start, todo.earlier)
        log.info("wrote %s, %s", out / "mot", result.write(out))
    return result


def _track_all(sources: list[Source], config: TrackConfig, out: Path) -> list[CameraResult]:
    """Track ``sources``, in ``config.workers`` processes when there are several; an interrupt (Ctrl-C,
    SIGTERM) or an error stops the workers and waits for them, so that nothing is written afterwards."""
    settings = camera_settings(config)
    records = {s.name: CameraRecord(s.name, settings, tree_fingerprint(s.path)) for s in sources}
    if config.executor == "ray":
        from reid_from_video.tracking.on_ray import track_on_ray

        return track_on_ray(sources, config, out, records)
    if config.workers == 1 or len(sources) <= 1:
        return [track_camera(source, config, out, records[source.name]) for source in sources]
    workers = min(config.workers, len(sources))
    with multiprocessing.Pool(workers, initializer=worker_signals, initargs=(os.getpid(),)) as pool:
        pending = [
            pool.apply_async(track_camera, (source, config, out, records[source.name], i % workers))
            for i, source in enumerate(sources)
        ]
        try:
            results = [job.get() for job in pending]
        finally:
            pool.terminate()  # on an error or an interrupt: stop the other cameras now
            pool.join()
    return results
