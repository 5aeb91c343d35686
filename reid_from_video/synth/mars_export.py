"""Ground-truth crops of a synthetic world in the MARS layout, so the MARS evaluation protocol runs on it.

A tracklet is a run of consecutive frames in which one identity's gt box in one camera is visible enough
(``min_visibility``) and tall enough (``min_height``, after clipping to the frame), cut into pieces of at most
``max_frames`` and kept when at least ``min_frames`` long; occlusions therefore fragment tracklets as in MARS.
Crops are cut from the decoded videos (what a pipeline would see, compression included), resized to 256 x 128.
Train and test identities come from the world's disjoint split. Queries follow MARS: one randomly chosen
tracklet per (test identity, camera) for which that identity also has a tracklet in another camera; the
gallery is every test tracklet. The ``info/`` files are written as MARS has them (``.mat`` v5 and the sorted
name lists); camera numbers 1..6 as in MARS, so a world with more cameras cannot be exported.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import scipy.io

from reid_from_video.core.errors import InputError
from reid_from_video.io.mars import mars_name, person_folder
from reid_from_video.io.mot import read_mot
from reid_from_video.io.store import crop_box, resize_crop
from reid_from_video.io.video import Camera, discover_cameras, iter_frames
from reid_from_video.synth.config import MARS_MAX_CAMERAS, MarsExportConfig

MAT_HEADER = b"MATLAB 5.0 MAT-file, written by reid_from_video.synth (MARS protocol files)"


@dataclass(frozen=True)
class MarsExport:
    """What :func:`export_mars` wrote: the MARS root and the tracklet counts."""

    root: Path
    train_tracklets: int
    test_tracklets: int
    queries: int
    images: int


def tracklets_from_gt(gt: pd.DataFrame, width: int, height: int, cfg: MarsExportConfig) -> list[dict]:
    """The tracklets of one camera's gt: dicts with pid, frames and the clipped boxes."""
    x0 = np.clip(gt["x"].to_numpy(), 0, width)
    y0 = np.clip(gt["y"].to_numpy(), 0, height)
    x1 = np.clip(gt["x"].to_numpy() + gt["w"].to_numpy(), 0, width)
    y1 = np.clip(gt["y"].to_numpy() + gt["h"].to_numpy(), 0, height)
    good = (gt["vis"].to_numpy() >= cfg.min_visibility) & (y1 - y0 >= cfg.min_height) & (x1 - x0 >= 4)
    table = pd.DataFrame({"id": gt["id"], "frame": gt["frame"], "x0": x0, "y0": y0, "x1": x1, "y1": y1})[good]
    tracklets = []
    for pid, rows in table.sort_values(["id", "frame"]).groupby("id", sort=True):
        frames = rows["frame"].to_numpy()
        breaks = np.flatnonzero(np.diff(frames) != 1) + 1
        for run in np.split(np.arange(len(rows)), breaks):
            run = run[:: cfg.stride]
            for start in range(0, len(run), cfg.max_frames):
                piece = run[start : start + cfg.max_frames]
                if len(piece) >= cfg.min_frames:
                    part = rows.iloc[piece]
                    boxes = part[["x0", "y0", "x1", "y1"]].to_numpy()
                    tracklets.append({"pid": int(pid), "frames": part["frame"].to_numpy(), "boxes": boxes})
    return tracklets


def _mat_bytes(key: str, array: np.ndarray) -> bytes:
    """A MATLAB v5 file holding ``array`` as ``key``, with a fixed header (scipy stamps the time there)."""
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, {key: array}, do_compression=False)
    data = bytearray(buffer.getvalue())
    data[:116] = MAT_HEADER.ljust(116)
    return bytes(data)


def export_mars(
    world_dir: str | Path, out: str | Path | None = None, config: MarsExportConfig | None = None
) -> MarsExport:
    """Export the world written by ``rfv synth`` in ``world_dir`` as a MARS tree at ``out`` (default
    ``world_dir/mars``); ``reid_from_video.io.mars.load_mars(out)`` loads it.

    Needs ``world.json`` (the split and seed), ``videos/`` and ``gt/<camera>/gt/gt.txt``. The tree is built
    under a temporary name and renamed when complete; an existing tree at ``out`` is replaced.
    """
    world_dir = Path(world_dir)
    meta_path = world_dir / "world.json"
    if not meta_path.is_file():
        raise InputError(meta_path, "not found: export_mars needs a complete world written by rfv synth")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    cameras = discover_cameras(world_dir / "videos")
    gts = {}
    for cam in cameras:
        gts[cam.name] = read_mot(world_dir / "gt" / cam.name / "gt" / "gt.txt", kind="gt")
    return write_mars(
        cameras,
        gts,
        meta["split"]["train"],
        meta["split"]["test"],
        meta["seed"],
        Path(out or world_dir / "mars"),
        config or MarsExportConfig(),
    )


def write_mars(
    cameras: list[Camera],
    gts: dict[str, pd.DataFrame],
    train_ids: list[int],
    test_ids: list[int],
    seed: int,
    out: Path,
    config: MarsExportConfig,
) -> MarsExport:
    """The export itself: ``cameras`` (read in this order, numbered 1..) with their gt tables by name."""
    if len(cameras) > MARS_MAX_CAMERAS:
        raise InputError(
            out, f"the MARS layout numbers cameras 1..{MARS_MAX_CAMERAS}, this world has {len(cameras)}"
        )
    split_of = {**{int(i): "train" for i in train_ids}, **{int(i): "test" for i in test_ids}}
    tmp = out.with_name(f".{out.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    # Per split, every tracklet as (pid, camera, T number, its image names).
    tracks: dict[str, list[tuple[int, int, int, list[str]]]] = {"train": [], "test": []}
    rows: dict[str, list[list[int]]] = {}
    n_images = 0
    for number, cam in enumerate(cameras, start=1):
        tracklets = tracklets_from_gt(gts[cam.name], cam.width, cam.height, config)
        # T numbers per (pid, camera), in time order; crops wanted per frame.
        wanted: dict[int, list[tuple[str, np.ndarray]]] = {}
        track_no: dict[int, int] = {}
        for tr in sorted(tracklets, key=lambda tr: (tr["pid"], int(tr["frames"][0]))):
            pid = tr["pid"]
            if pid not in split_of:
                raise InputError(
                    out, f"identity {pid} of camera {cam.name} is in neither split of world.json"
                )
            split = split_of[pid]
            track_no[pid] = track_no.get(pid, 0) + 1
            tr_names = [mars_name(pid, number, track_no[pid], k) for k in range(1, len(tr["frames"]) + 1)]
            tracks[split].append((pid, number, track_no[pid], tr_names))
            for frame, box, name in zip(tr["frames"], tr["boxes"], tr_names, strict=True):
                wanted.setdefault(int(frame), []).append((f"bbox_{split}/{person_folder(pid)}/{name}", box))
        for frame in iter_frames(cam):
            for rel, (bx0, by0, bx1, by1) in wanted.pop(frame.index, []):
                crop = crop_box(frame.image, bx0, by0, bx1 - bx0, by1 - by0)
                crop = resize_crop(crop, (config.crop_width, config.crop_height))
                ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, config.jpeg_quality])
                path = tmp / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data.tobytes())  # plain writes: the whole tree is renamed when complete
                n_images += 1
        if wanted:
            missing = min(wanted)
            raise InputError(cam.path, f"frame {missing} has gt crops but could not be decoded")

    # The info files: name lists sorted (MARS order: the fixed-width names sort by pid, camera, T, F), one
    # row per tracklet over its span of names.
    info = tmp / "info"
    info.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        if not tracks[split]:
            raise InputError(
                out, f"no {split} tracklets: make the world longer or denser, or lower mars.min_*"
            )
        tracks[split].sort(key=lambda track: track[:3])
        ordered = [name for *_, tr_names in tracks[split] for name in tr_names]
        (info / f"{split}_name.txt").write_text("\n".join(ordered) + "\n", encoding="utf-8")
        ends = np.cumsum([len(tr_names) for *_, tr_names in tracks[split]])
        rows[split] = [
            [int(end) - len(tr_names) + 1, int(end), pid, camera]
            for (pid, camera, _, tr_names), end in zip(tracks[split], ends, strict=True)
        ]
        table = np.array(rows[split], np.float64)
        (info / f"tracks_{split}_info.mat").write_bytes(_mat_bytes(f"track_{split}_info", table))

    test = np.array(rows["test"], np.int64)
    rng = np.random.default_rng([seed, 8])
    queries = []
    for pid in np.unique(test[:, 2]):
        mine = np.flatnonzero(test[:, 2] == pid)
        cams = np.unique(test[mine, 3])
        if len(cams) < 2:
            continue  # no gallery in another camera
        for camera in cams:
            options = mine[test[mine, 3] == camera]
            queries.append(int(options[rng.integers(len(options))]) + 1)
    query = np.array(sorted(queries), np.float64).reshape(1, -1)
    (info / "query_IDX.mat").write_bytes(_mat_bytes("query_IDX", query))

    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return MarsExport(out, len(rows["train"]), len(rows["test"]), len(queries), n_images)
