"""``rfv inspect``: what a path holds, seen the way the pipeline will read it.

A path can hold several things at once (a MOTChallenge sequence with ``img1/`` is a camera and has ground
truth), so each reader is tried and every part it recognises goes into the report:

- ``cameras``: video files, image folders and MOT sequences, with fps, frames, size and start time
  (and, with ``decode=true``, how many frames decode and how many are corrupt);
- ``mot``: per sequence, ground-truth boxes and identities (all, pedestrians, distractors) and detections;
- ``mars``: the MARS protocol counts (tracklets, identities, identity-camera pairs, queries);
- ``store``: a tracklet store's cameras, tracks and crops.

A path where nothing is recognised is an error that names it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reid_from_video.core.atomic import write_json
from reid_from_video.core.config import save_config
from reid_from_video.core.errors import InputError
from reid_from_video.core.lock import output_lock
from reid_from_video.io import mars, mot, video
from reid_from_video.io.config import InspectConfig
from reid_from_video.io.store import TrackletStore

log = logging.getLogger(__name__)


def run_inspect(path: str | Path, out: str | Path | None, config: InspectConfig) -> dict[str, Any]:
    """``rfv inspect``: the report of :func:`inspect_path`, with ``out`` also written there (inspect.json,
    config.yaml)."""
    report = inspect_path(path, config)
    if out is not None:
        with output_lock(out):
            write_json(Path(out) / "inspect.json", report)
            log.info("wrote %s, %s", Path(out) / "inspect.json", save_config(config, Path(out)))
    return report


def inspect_path(path: str | Path, config: InspectConfig | None = None) -> dict[str, Any]:
    """A JSON-ready report of everything recognised under ``path`` (see the module docstring)."""
    config = config or InspectConfig()
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    report: dict[str, Any] = {"path": str(path)}
    problems: list[str] = []
    for name, reader in (("store", _store), ("mars", _mars), ("mot", _mot), ("cameras", _cameras)):
        try:
            part = reader(path, config)
        except InputError as error:
            problems.append(str(error))
            continue
        if part is not None:
            report[name] = part
    if len(report) == 1:
        raise InputError(path, "nothing recognised here: " + "; ".join(problems))
    return report


def _cameras(path: Path, config: InspectConfig) -> list[dict[str, Any]]:
    cameras = video.discover_cameras(path, fps=config.video.fps)
    rows = []
    for camera in cameras:
        row = {
            "name": camera.name,
            "kind": camera.kind,
            "path": str(camera.path),
            "fps": camera.fps,
            "frames": camera.frame_count,
            "width": camera.width,
            "height": camera.height,
            "start_time": camera.start_time,
            "duration_s": round(camera.frame_count / camera.fps, 3),
        }
        if config.decode:
            reader = video.iter_frames(camera, config.video.stride, config.video.start_s, config.video.end_s)
            progress = tqdm(reader, total=reader.frames_selected, desc=f"decode {camera.name}", unit="frame")
            for _ in progress:
                pass
            gaps = [list(gap) for gap in reader.gaps]  # [first, last] frames the file lost
            row.update(frames_decoded=reader.frames_read, frames_corrupt=reader.frames_skipped, gaps=gaps)
        rows.append(row)
    return rows


def _mot(path: Path, config: InspectConfig) -> dict[str, Any] | None:
    sequences = mot.find_sequences(path)
    report = {}
    for name, folder in sequences.items():
        entry: dict[str, Any] = {}
        if (folder / "seqinfo.ini").is_file():
            info = mot.read_seqinfo(folder)
            entry.update(
                frames=info.seq_length, fps=info.frame_rate, width=info.im_width, height=info.im_height
            )
        gt_file = folder / "gt" / "gt.txt"
        if gt_file.is_file():
            gt = mot.read_mot(gt_file, kind="gt")
            walkers = mot.pedestrians(gt)
            entry["gt"] = {
                "boxes": len(gt),
                "ids": int(gt["id"].nunique()),
                "pedestrian_boxes": len(walkers),
                "pedestrian_ids": int(walkers["id"].nunique()),
                "distractor_boxes": len(mot.distractors(gt)),
            }
        det_file = folder / "det" / "det.txt"
        if det_file.is_file():
            det = mot.read_mot(det_file, kind="det")
            entry["det"] = {"boxes": len(det), "frames": int(det["frame"].nunique())}
        if "gt" in entry or "det" in entry:
            report[name] = entry
    return report or None


def _mars(path: Path, config: InspectConfig) -> dict[str, Any] | None:
    info = path / "info" if (path / "info").is_dir() else path
    if not (info / "tracks_train_info.mat").is_file():
        return None
    return mars.summary(mars.load_mars(path))


def _store(path: Path, config: InspectConfig) -> dict[str, Any] | None:
    store = TrackletStore(path)
    complete = store.complete_cameras()
    if not complete and not store.index_path.is_file():
        return None
    table = store.read_index() if store.index_path.is_file() else None
    report: dict[str, Any] = {"complete_cameras": complete, "merged": table is not None}
    if table is not None:
        per_camera = table.groupby("camera").agg(tracks=("track", "nunique"), crops=("frame", "size"))
        report["cameras"] = {str(k): {c: int(v) for c, v in row.items()} for k, row in per_camera.iterrows()}
        report["crops"] = len(table)
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as short plain-text tables."""
    lines = [f"inspect {report['path']}"]
    if "cameras" in report:
        lines.append(f"\ncameras ({len(report['cameras'])}):")
        lines.append(f"  {'name':<24} {'kind':<7} {'fps':>7} {'frames':>7} {'size':>11} {'start_s':>9}")
        for c in report["cameras"]:
            size = f"{c['width']}x{c['height']}"
            line = f"  {c['name']:<24} {c['kind']:<7} {c['fps']:>7.2f} {c['frames']:>7} {size:>11} "
            line += f"{c['start_time']:>9.2f}"
            if "frames_decoded" in c:
                line += f"  decoded {c['frames_decoded']}, corrupt {c['frames_corrupt']}"
                line += "".join(f", gap {first}-{last}" for first, last in c["gaps"])
            lines.append(line)
    if "mot" in report:
        lines.append(f"\nMOTChallenge sequences ({len(report['mot'])}):")
        for name, entry in report["mot"].items():
            parts = [f"{entry['frames']} frames @ {entry['fps']} fps"] if "frames" in entry else []
            if "gt" in entry:
                gt = entry["gt"]
                parts.append(
                    f"gt {gt['boxes']} boxes / {gt['ids']} ids (pedestrians {gt['pedestrian_boxes']}"
                    f" / {gt['pedestrian_ids']}, distractors {gt['distractor_boxes']})"
                )
            if "det" in entry:
                parts.append(f"det {entry['det']['boxes']} boxes")
            lines.append(f"  {name}: " + ", ".join(parts))
    if "mars" in report:
        lines.append("\nMARS:")
        lines.extend(f"  {key}: {value}" for key, value in report["mars"].items())
    if "store" in report:
        store = report["store"]
        lines.append(
            f"\ntracklet store: {len(store['complete_cameras'])} complete cameras, "
            f"{'merged' if store['merged'] else 'not merged'}"
        )
        for camera, counts in store.get("cameras", {}).items():
            lines.append(f"  {camera}: {counts['tracks']} tracks, {counts['crops']} crops")
    return "\n".join(lines)
