"""A contact sheet: a few frames of every camera side by side, with the gt boxes and ids drawn on them.

Read back from the written videos and gt files, so it shows exactly what the world holds. Per camera, the
video is split into equal time windows and the frame with most visible people in each window is shown.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from reid_from_video.core.atomic import atomic_write_bytes
from reid_from_video.io.mot import read_mot
from reid_from_video.io.video import discover_cameras, iter_frames


def _colour(identity: int) -> tuple[int, int, int]:
    hue = (identity * 47) % 180
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def _pick_frames(gt, n_frames: int, samples: int) -> list[int]:
    counts = np.bincount(gt["frame"][gt["vis"] > 0.3].to_numpy(), minlength=n_frames + 1)[1 : n_frames + 1]
    edges = np.linspace(0, n_frames, samples + 1).astype(int)
    return [int(a + np.argmax(counts[a:b]) + 1) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def make_contact_sheet(
    world_dir: str | Path, out: str | Path | None = None, samples: int = 4, tile_width: int = 400
) -> Path:
    """Write the sheet (JPEG) for the world in ``world_dir``; default ``world_dir/contact_sheet.jpg``."""
    world_dir = Path(world_dir)
    out = Path(out or world_dir / "contact_sheet.jpg")
    rows = []
    for cam in discover_cameras(world_dir / "videos"):
        gt = read_mot(world_dir / "gt" / cam.name / "gt" / "gt.txt", kind="gt")
        tiles = []
        # Only the picked frames are decoded (the reader seeks to each), not the whole video again.
        picked = [(cam.time_of(i), cam.time_of(i + 1)) for i in _pick_frames(gt, cam.frame_count, samples)]
        for frame in (f for start, end in picked for f in iter_frames(cam, start_s=start, end_s=end)):
            image = frame.image.copy()
            for row in gt[gt["frame"] == frame.index].itertuples():
                colour = _colour(int(row.id))
                p0 = (int(row.x), int(row.y))
                p1 = (int(row.x + row.w) - 1, int(row.y + row.h) - 1)
                cv2.rectangle(image, p0, p1, colour, 1, cv2.LINE_AA)
                label = f"{int(row.id)} {row.vis:.2f}"
                cv2.putText(
                    image,
                    label,
                    (p0[0], max(p0[1] - 3, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.38,
                    colour,
                    1,
                    cv2.LINE_AA,
                )
            scale = tile_width / cam.width
            tile = cv2.resize(
                image, (tile_width, int(round(cam.height * scale))), interpolation=cv2.INTER_AREA
            )
            caption = f"{cam.name}  frame {frame.index}  t={frame.time_s:.1f}s"
            cv2.rectangle(tile, (0, 0), (tile_width, 18), (0, 0, 0), -1)
            cv2.putText(
                tile, caption, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA
            )
            tiles.append(tile)
        while len(tiles) < samples:
            tiles.append(
                np.zeros_like(tiles[0])
                if tiles
                else np.zeros((int(cam.height * tile_width / cam.width), tile_width, 3), np.uint8)
            )
        rows.append(np.hstack([np.pad(t, ((2, 2), (2, 2), (0, 0))) for t in tiles]))
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
    ok, data = cv2.imencode(".jpg", sheet, [cv2.IMWRITE_JPEG_QUALITY, 92])
    atomic_write_bytes(out, data.tobytes())
    return out
