"""What each camera of a track folder was made from, so that a re-run redoes exactly what changed.

``RUN/cameras/<camera>.json`` (:class:`CameraRecord`) holds the settings the camera was tracked with (every
config key that shapes its outputs, and the content hash of every model file the config names), the
fingerprint of its input (the video or folder: relative paths, sizes, modification times) and its
:class:`~reid_from_video.tracking.result.CameraResult`. It is written just before the camera's index part,
the store's mark of a complete camera, so every complete camera has one (unless an older rfv made it).

A re-run (:func:`plan`) skips a complete camera whose settings and input are those of this call, redoes one
whose input changed (a replaced video), and refuses to mix: a complete camera made with other settings (or
of unknown settings) is a :class:`~reid_from_video.core.errors.ConfigError` naming the keys that differ,
unless ``overwrite=true``, which deletes such cameras' outputs so that the store is again one config's.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reid_from_video.core.atomic import write_json
from reid_from_video.core.config import config_to_dict
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.core.fingerprint import file_sha256, tree_fingerprint
from reid_from_video.io.results import decode_fields, encode_fields, read_object
from reid_from_video.io.store import TrackletStore
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.result import CameraResult

if TYPE_CHECKING:
    from reid_from_video.tracking.camera import Source

log = logging.getLogger(__name__)

RECORDS = "cameras"
# Keys that say how this call runs, not what a camera's outputs are (the threaded pipeline gives the
# sequential one's outputs: tests/test_track_pipeline.py).
RUN_ONLY = (
    "workers",
    "shard",
    "cameras",
    "progress",
    "overwrite",
    "pipeline",
    "detector.threads",
    "embedder.threads",
    "detector.spin",
    "embedder.spin",
    "embedder.parallel_frames",
    "executor",
    "ray.address",
    "ray.cpus_per_camera",
    "ray.gpus_per_camera",
)
_SHOWN = 6  # differing keys named in the error


@dataclass(frozen=True)
class CameraRecord:
    camera: str
    settings: dict[str, Any] = field(default_factory=dict)
    input: str = ""
    result: CameraResult | None = None


def record_path(out: Path, camera: str) -> Path:
    return out / RECORDS / f"{camera}.json"


def camera_settings(config: TrackConfig) -> dict[str, Any]:
    """Every key of ``config`` that shapes a camera's outputs, flat (``tracker.max_age``); a key naming a
    file (a model) by the file's content (``sha256:...``), not its path: a model replaced in place counts, a
    moved one does not."""
    flat = {k: v for k, v in _flatten(config_to_dict(config)).items() if k not in RUN_ONLY}
    return {k: f"sha256:{file_sha256(v)}" if _names_file(v) else v for k, v in flat.items()}


def _names_file(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and Path(value).is_file()


def write_record(out: Path, record: CameraRecord) -> None:
    write_json(record_path(out, record.camera), encode_fields(record))


def read_record(out: Path, camera: str) -> CameraRecord | None:
    """The record of ``camera``; None when absent or unreadable (its settings are then unknown)."""
    path = record_path(out, camera)
    if not path.is_file():
        return None
    try:
        return decode_fields(CameraRecord, read_object(path))
    except (InputError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Plan:
    done: list[str]  # complete with these settings and this input: skipped
    todo: list[Source]  # to track (again)
    earlier: list[CameraResult]  # the results of the store's complete cameras not tracked now


def plan(out: Path, sources: list[Source], config: TrackConfig) -> Plan:
    """Which cameras of ``sources`` to track, after checking that the store holds one config's outputs."""
    store = TrackletStore(out)
    settings = camera_settings(config)
    complete = [c for c in store.complete_cameras() if (out / "mot" / f"{c}.txt").is_file()]
    defaults = camera_settings(TrackConfig())
    records = {camera: _with_new_keys(read_record(out, camera), defaults) for camera in complete}
    conflicts = {
        c: _differences(r, settings) for c, r in records.items() if r is None or r.settings != settings
    }
    if conflicts and not config.overwrite:
        raise ConfigError(_conflict_message(out, conflicts))
    for camera in conflicts:
        log.warning("%s: overwrite=true: deleting camera %s (made with other settings)", out, camera)
        remove_camera(out, camera)
    inputs = {s.name: tree_fingerprint(s.path) for s in sources}
    done, todo = [], []
    for source in sources:
        record = records.get(source.name)
        if source.name in conflicts or record is None:
            todo.append(source)
        elif record.input != inputs[source.name]:
            log.warning("%s: %s changed since it was tracked: tracking it again", source.name, source.path)
            todo.append(source)
        else:
            done.append(source.name)
    tracked_now = {s.name for s in todo}
    earlier = [
        r.result
        for c, r in sorted(records.items())
        if c not in tracked_now and c not in conflicts and r is not None and r.result is not None
    ]
    return Plan(done, todo, earlier)


def _with_new_keys(record: CameraRecord | None, defaults: dict[str, Any]) -> CameraRecord | None:
    """``record`` with the keys added to the config since it was written, at their ``defaults``: an option
    is added with the old behaviour as its default, so a camera tracked before it existed was tracked as
    that default asks (a store made by an older rfv stays resumable)."""
    if record is None:
        return None
    missing = {k: v for k, v in defaults.items() if k not in record.settings}
    return dataclasses.replace(record, settings={**record.settings, **missing}) if missing else record


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in values.items():
        key = f"{prefix}.{name}" if prefix else name
        flat.update(_flatten(value, key) if isinstance(value, dict) else {key: value})
    return flat


def remove_camera(out: Path, camera: str) -> None:
    """Delete every output of ``camera`` in the track folder ``out``."""
    record_path(out, camera).unlink(missing_ok=True)
    TrackletStore(out).remove_camera(camera)
    (out / "mot" / f"{camera}.txt").unlink(missing_ok=True)


def _differences(record: CameraRecord | None, settings: dict[str, Any]) -> list[str]:
    if record is None:
        return ["(no record of its settings: made by an older rfv, or the record is unreadable)"]
    old = record.settings
    keys = sorted(k for k in old.keys() | settings.keys() if old.get(k) != settings.get(k))
    return [f"{k}: {_shown(old.get(k))} -> {_shown(settings.get(k))}" for k in keys]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _conflict_message(out: Path, conflicts: dict[str, list[str]]) -> str:
    cameras = ", ".join(sorted(conflicts))
    differences = sorted({d for found in conflicts.values() for d in found})
    shown = "; ".join(differences[:_SHOWN]) + (
        f"; and {len(differences) - _SHOWN} more" if len(differences) > _SHOWN else ""
    )
    return (
        f"{out}: camera(s) {cameras} in this track folder were made with other settings ({shown}); "
        "their outputs and this config's would mix. Track into a new --out, or add overwrite=true to delete "
        "them and track again with this config"
    )
