"""Rendering one camera: every frame drawn from the plan, and its ground truth read off the drawn pixels.

People are drawn far to near, so nearer people occlude farther ones. Each person's silhouette is the set of
pixels where its own alpha is >= 0.5; a label image records which person owns each frame pixel at the end.
Hence, per person and frame:

- the gt box is the tight box of the whole silhouette, in 0-based pixel coordinates (x, y of the top-left
  pixel, w, h in pixels); like MOTChallenge gt it may extend past the frame border;
- visibility is the number of pixels the person still owns in the final frame divided by the silhouette's
  size. The frame border counts as occlusion (a person half out of view has visibility <= 0.5), as in MOT17;
- a row is written whenever some of the silhouette is inside the frame, also when the person is fully
  hidden behind others (visibility 0, as MOT17 keeps occluded people).

Shadows are drawn on the ground before the people and belong to nobody.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write_bytes, temporary_name, write_json
from reid_from_video.io.mot import MOT_COLUMNS, SeqInfo, write_mot, write_seqinfo
from reid_from_video.synth.background import make_background
from reid_from_video.synth.camera import PhotometricFilter
from reid_from_video.synth.figure import draw_figure
from reid_from_video.synth.motion import STEP_M
from reid_from_video.synth.world import World, _rng

SWING = 0.45  # leg swing amplitude while walking, radians
SHADOW_DEPTH = 0.4  # how much a shadow darkens the ground at its centre


@dataclass
class RenderedFrame:
    """One frame: the written ``image``, the ``clean`` one before photometry, and its ground truth.

    ``owner`` (int32 HxW) is 0 for background, else k + 1 for the person ``ids[k]`` owning the pixel;
    ``boxes`` (n x 4: x, y, w, h), ``visibility`` and ``silhouette`` (pixels of each whole silhouette) are
    per ``ids`` entry; ``in_frame`` says which persons have any silhouette pixel inside the frame.
    """

    image: np.ndarray
    clean: np.ndarray
    owner: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray
    visibility: np.ndarray
    silhouette: np.ndarray
    in_frame: np.ndarray

    def label_image(self) -> np.ndarray:
        """HxW identity ids (0 where no person)."""
        return np.concatenate([[0], self.ids]).astype(np.int32)[self.owner]


def _facings(cam, path) -> np.ndarray:
    """Per path segment, +1 when it moves right in the image, -1 left; pauses keep the previous one."""
    px, _, _ = cam.project(path.x, path.z)
    dx = np.diff(px)
    out = np.ones(len(dx), int)
    current = 1 if not np.any(np.abs(dx) > 1) else int(np.sign(dx[np.flatnonzero(np.abs(dx) > 1)[0]]))
    for i, d in enumerate(dx):
        if abs(d) > 1:
            current = 1 if d > 0 else -1
        out[i] = current
    return out


class CameraRenderer:
    """Draws the frames of camera ``camera`` (1-based) of ``world``."""

    def __init__(self, world: World, camera: int, shadows: bool = True, photometric: bool = True):
        self.world = world
        self.cam = world.cameras[camera - 1]
        seed = world.config.seed
        self.background = make_background(self.cam, _rng(seed, 6, camera))
        self.filter = (
            PhotometricFilter(self.cam.photometric, self.cam.width, self.cam.height, _rng(seed, 7, camera))
            if photometric
            else None
        )
        self.shadows = shadows
        self.visits = world.visits_of_camera(camera)
        self.t_in = np.array([v.path.t_in for v in self.visits])
        self.t_out = np.array([v.path.t_out for v in self.visits])
        self.facing = [_facings(self.cam, v.path) for v in self.visits]

    def render(self, frame: int) -> RenderedFrame:
        """Frame ``frame`` (1-based)."""
        cam, world = self.cam, self.world
        t = (frame - 1) / world.config.fps
        active = np.flatnonzero((self.t_in <= t) & (self.t_out >= t))
        people = []
        for i in active:
            visit = self.visits[i]
            x, z, dist, speed, seg = visit.path.at(t)
            fx, fy, hpx = cam.project(x, z)
            look = world.looks[visit.identity - 1]
            phase = math.pi * dist / (STEP_M * look.height)
            swing = SWING * min(1.0, speed / 0.9) if speed > 0.05 else 0.0
            people.append(
                (z, visit.identity, float(fx), float(fy), float(hpx), phase, swing, self.facing[i][seg])
            )
        people.sort(key=lambda p: (-p[0], p[1]))  # far to near

        h, w = cam.height, cam.width
        canvas = self.background.astype(np.float32)
        if self.shadows:
            for _, ident, fx, fy, hpx, *_ in people:
                _shadow(canvas, fx, fy, hpx * world.looks[ident - 1].height)
        owner = np.zeros((h, w), np.int32)
        n = len(people)
        ids = np.array([p[1] for p in people], np.int64)
        boxes = np.zeros((n, 4), np.float64)
        silhouette = np.zeros(n, np.int64)
        inside = np.zeros(n, np.int64)
        for k, (_, ident, fx, fy, hpx, phase, swing, facing) in enumerate(people):
            fig = draw_figure(world.looks[ident - 1], fx, fy, hpx, phase, swing, facing)
            mask = fig.mask
            rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
            if rows.size == 0:
                continue
            boxes[k] = (fig.x0 + cols[0], fig.y0 + rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)
            silhouette[k] = int(mask.sum())
            fh, fw = mask.shape
            x0, y0 = max(fig.x0, 0), max(fig.y0, 0)
            x1, y1 = min(fig.x0 + fw, w), min(fig.y0 + fh, h)
            if x0 >= x1 or y0 >= y1:
                continue
            local = np.s_[y0 - fig.y0 : y1 - fig.y0, x0 - fig.x0 : x1 - fig.x0]
            region = np.s_[y0:y1, x0:x1]
            a = fig.alpha[local][..., None]
            canvas[region] = canvas[region] * (1.0 - a) + fig.color[local]
            m = mask[local]
            inside[k] = int(m.sum())
            owner[region][m] = k + 1
        clean = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
        counts = np.bincount(owner.ravel(), minlength=n + 1)[1:]
        visibility = np.where(silhouette > 0, counts / np.maximum(silhouette, 1), 0.0)
        image = self.filter(clean) if self.filter is not None else clean
        return RenderedFrame(image, clean, owner, ids, boxes, visibility, silhouette, inside > 0)


def _shadow(canvas: np.ndarray, fx: float, fy: float, height: float) -> None:
    """Darken a soft ellipse on the ground under the feet."""
    ax, ay = max(2.0, 0.22 * height), max(1.0, 0.045 * height)
    pad = int(math.ceil(ax)) + 3
    x0, y0 = int(fx) - pad, int(fy) - int(math.ceil(ay)) - 3
    pw, ph = 2 * pad + 1, int(2 * math.ceil(ay)) + 7
    patch = np.zeros((ph, pw), np.float32)
    centre = (int(round((fx - x0) * 16)), int(round((fy - y0) * 16)))
    cv2.ellipse(patch, centre, (int(ax * 16), int(ay * 16)), 0, 0, 360, 1.0, -1, cv2.LINE_AA, 4)
    patch = cv2.GaussianBlur(patch, (0, 0), max(0.8, ay * 0.5))
    h, w = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + pw, w), min(y0 + ph, h)
    if cx0 >= cx1 or cy0 >= cy1:
        return
    shade = 1.0 - SHADOW_DEPTH * patch[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    canvas[cy0:cy1, cx0:cx1] *= shade[..., None]


def gt_table(rows: list[tuple]) -> pd.DataFrame:
    """A MOT gt table from (frame, id, x, y, w, h, vis) rows, sorted by frame then id."""
    data = np.array(rows, np.float64).reshape(-1, 7)
    order = np.lexsort((data[:, 1], data[:, 0]))
    data = data[order]
    n = len(data)
    table = pd.DataFrame(
        {
            "frame": data[:, 0].astype(np.int64),
            "id": data[:, 1].astype(np.int64),
            "x": data[:, 2],
            "y": data[:, 3],
            "w": data[:, 4],
            "h": data[:, 5],
            "conf": np.ones(n),
            "cls": np.ones(n, np.int64),
            "vis": np.round(data[:, 6], 4),
        }
    )
    return table[list(MOT_COLUMNS)]


def render_camera(
    world: World, camera: int, out: Path, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """Render camera ``camera`` (1-based) into ``out``: video, sidecar, gt, seqinfo; return its gt table.

    ``out/videos/<name><ext>`` and ``<name>.json`` (shared clock: start_time 0), and
    ``out/gt/<name>/gt/gt.txt`` with ``seqinfo.ini`` (and ``img1/`` frames with ``config.frames``).
    """
    config = world.config
    cam = world.cameras[camera - 1]
    renderer = CameraRenderer(world, camera, shadows=config.shadows, photometric=config.photometric)
    video = out / "videos" / f"{cam.name}{config.video_suffix}"
    video.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(video, config.video_suffix)  # OpenCV picks the container by the suffix
    writer = cv2.VideoWriter(
        str(tmp), cv2.VideoWriter_fourcc(*config.codec), config.fps, (cam.width, cam.height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {config.codec} video to {tmp}")
    seq = out / "gt" / cam.name
    if config.frames:
        (seq / "img1").mkdir(parents=True, exist_ok=True)
    rows: list[tuple] = []
    try:
        for frame in range(1, config.n_frames + 1):
            rendered = renderer.render(frame)
            writer.write(rendered.image)
            if config.frames:
                ok, data = cv2.imencode(".jpg", rendered.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
                atomic_write_bytes(seq / "img1" / f"{frame:06d}.jpg", data.tobytes())
            for k in np.flatnonzero(rendered.in_frame):
                rows.append((frame, rendered.ids[k], *rendered.boxes[k], rendered.visibility[k]))
            if progress is not None:
                progress(1)
        writer.release()
        os.replace(tmp, video)
    except BaseException:
        writer.release()
        tmp.unlink(missing_ok=True)
        raise
    write_json(video.with_suffix(".json"), {"start_time": 0.0, "fps": config.fps})
    table = gt_table(rows)
    write_mot(seq / "gt" / "gt.txt", table, kind="gt")
    info = SeqInfo(
        name=cam.name,
        frame_rate=config.fps,
        seq_length=config.n_frames,
        im_width=cam.width,
        im_height=cam.height,
    )
    write_seqinfo(seq, info)
    return table
