"""``rfv track``: every camera of a folder, in parallel processes, sharded, resumable, with a summary."""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from reid_from_video.core.config import save_config
from reid_from_video.core.errors import InputError
from reid_from_video.core.inputs import require_inputs
from reid_from_video.detect.family import with_onnx_backend
from reid_from_video.detect.registry import PIXEL_FREE
from reid_from_video.io.mot import find_sequences, read_seqinfo
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.video import discover_cameras
from reid_from_video.tracking.camera import Source, as_source, frameless_source, track_camera
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.inputs import track_inputs
from reid_from_video.tracking.result import TrackResult

log = logging.getLogger(__name__)


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
    """Track every camera of this shard not yet complete in ``out``; write ``out/summary.json``."""
    path, out = Path(path), Path(out)
    start = time.perf_counter()
    require_inputs(track_inputs(config))  # a missing model fails now, not at the first camera
    config = dataclasses.replace(config, detector=with_onnx_backend(config.detector, announce=True))
    sources = find_sources(path, config)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out)
    store = TrackletStore(out)
    done = [s.name for s in sources if store.is_complete(s.name) and (out / "mot" / f"{s.name}.txt").exists()]
    todo = [s for s in sources if s.name not in done]
    if done:
        log.info("resuming: %d camera(s) already complete: %s", len(done), ", ".join(done))
    cameras = []
    if config.workers == 1 or len(todo) <= 1:
        cameras = [track_camera(source, config, out) for source in todo]
    else:
        with ProcessPoolExecutor(max_workers=min(config.workers, len(todo))) as pool:
            futures = [
                pool.submit(track_camera, source, config, out, i % config.workers)
                for i, source in enumerate(todo)
            ]
            cameras = [future.result() for future in futures]
    if store.complete_cameras():
        store.finalize()
    result = TrackResult.of(str(path), cameras, done, time.perf_counter() - start)
    log.info("wrote %s, %s", out / "mot", result.write(out))
    return result
