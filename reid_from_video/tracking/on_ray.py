"""Cameras fanned out on Ray (``executor=ray``): one task per camera on an existing cluster, or on a local
Ray instance started for the call.

Each task is :func:`reid_from_video.tracking.camera.track_camera`, as a local worker runs it: it writes the
camera's MOT file, crops and store part atomically into ``--out`` (which every node must see: a shared
filesystem), and only its last write marks the camera complete. So resume and atomicity are those of local
runs: a task killed midway leaves temporaries that the next run clears, and the camera is tracked again. The
driver holds ``--out``'s lock; on an error or an interrupt (Ctrl-C, SIGTERM) it cancels every task and
waits for them, so that nothing is written after it returns.

Resources: ``ray.cpus_per_camera`` CPUs (the camera's models get as many threads) and
``ray.gpus_per_camera`` GPUs per task; Ray sets ``CUDA_VISIBLE_DEVICES`` in a task with a GPU, where the
models' ``device=auto`` finds it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

from reid_from_video.core.errors import SettingError
from reid_from_video.tracking.camera import Source, track_camera
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.record import CameraRecord
from reid_from_video.tracking.result import CameraResult

log = logging.getLogger(__name__)


def track_on_ray(
    sources: list[Source], config: TrackConfig, out: Path, records: dict[str, CameraRecord]
) -> list[CameraResult]:
    """Track ``sources`` as Ray tasks; the results in ``sources``' order."""
    try:
        import ray
    except ImportError:
        raise SettingError("executor=ray needs Ray: pip install 'ray>=2.9'", ("executor",)) from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=config.ray.address, include_dashboard=False, logging_level=logging.WARNING)
    task = ray.remote(num_cpus=config.ray.cpus_per_camera, num_gpus=config.ray.gpus_per_camera)(_camera_task)
    pending = {task.remote(source, config, str(out), records[source.name]): source.name for source in sources}
    results: dict[str, CameraResult] = {}
    try:
        while len(results) < len(sources):
            ready, _ = ray.wait([r for r in pending if pending[r] not in results], num_returns=1)
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayTaskError as error:  # the task's own error, as a local run raises it
                cause = getattr(error, "cause", None)
                if isinstance(cause, Exception):
                    raise cause from None
                raise
            results[pending[ready[0]]] = result
            log.info("%s done on Ray (%d of %d cameras)", result.camera, len(results), len(sources))
    finally:
        unfinished = [r for r in pending if pending[r] not in results]
        for ref in unfinished:  # an error or an interrupt: stop the other cameras now
            ray.cancel(ref, force=True)
        if unfinished:
            ray.wait(unfinished, num_returns=len(unfinished), timeout=60)
        if started_here:
            ray.shutdown()
    return [results[source.name] for source in sources]


def _camera_task(source: Source, config: TrackConfig, out: str, record: CameraRecord) -> CameraResult:
    """One camera in a Ray worker: the models' threads from the task's CPUs, no progress bar (the driver
    logs each camera as it ends)."""
    cpus = max(1, math.floor(config.ray.cpus_per_camera))
    config = dataclasses.replace(config, progress=False)
    return track_camera(source, config, Path(out), record, cores=cpus)
