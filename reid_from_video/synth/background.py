"""A static procedural background per camera, drawn once: what lies above the horizon and the ground.

Three styles (street with buildings, indoor hall, park path), each with its own colours drawn from the
camera's seed. The ground is textured in ground-plane coordinates through the camera's projection, so
tiles and kerbs converge to the horizon and walkways sit where people walk.
"""

from __future__ import annotations

import cv2
import numpy as np

from reid_from_video.synth.camera import CameraSpec


def _low_noise(rng: np.random.Generator, h: int, w: int, cells: int, amplitude: float) -> np.ndarray:
    """Smooth noise: a coarse random grid resized up (gives stains, grass tufts, uneven light)."""
    grid = rng.normal(0, amplitude, size=(max(2, h * cells // w), cells)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _ground_coords(cam: CameraSpec, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel: ground X and Z (metres) and a mask of the rows below the horizon."""
    ys = np.arange(h, dtype=np.float32)[:, None] + 0.5
    xs = np.arange(w, dtype=np.float32)[None, :] + 0.5
    below = ys > cam.horizon + 1.0
    depth = np.where(below, cam.focal * cam.mount_height / np.maximum(ys - cam.horizon, 1.0), 1e4)
    lateral = (xs - w / 2) * depth / cam.focal
    return np.broadcast_to(lateral, (h, w)), np.broadcast_to(depth, (h, w)), np.broadcast_to(below, (h, w))


def _colour(rng: np.random.Generator, base: tuple[int, int, int], spread: int) -> np.ndarray:
    return np.clip(np.asarray(base) + rng.integers(-spread, spread + 1, 3), 0, 255).astype(np.float32)


def make_background(cam: CameraSpec, rng: np.random.Generator) -> np.ndarray:
    """The camera's empty scene, BGR uint8."""
    h, w = cam.height, cam.width
    horizon = int(round(cam.horizon))
    img = np.zeros((h, w, 3), np.float32)
    x_m, z_m, below = _ground_coords(cam, h, w)

    # Ground: a base colour, a texture in ground coordinates, and a walkway around each lane.
    if cam.style == 0:  # street: paving slabs
        ground = _colour(rng, (120, 125, 128), 20)
        tile = 1.2
        lines = (np.abs((x_m / tile) % 1 - 0.5) > 0.47) | (np.abs((z_m / tile) % 1 - 0.5) > 0.47)
        texture = np.where(lines, -25.0, 0.0)
    elif cam.style == 1:  # hall: checker floor
        ground = _colour(rng, (150, 160, 170), 25)
        tile = 0.8
        checker = ((np.floor(x_m / tile) + np.floor(z_m / tile)) % 2).astype(np.float32)
        texture = checker * float(rng.uniform(-35, 35))
    else:  # park: grass
        ground = _colour(rng, (60, 120, 70), 15)
        texture = _low_noise(rng, h, w, 48, 14.0)
    img[:] = ground
    # Texture fades towards the horizon, where its cells get smaller than a pixel (no moire).
    ys = np.arange(h, dtype=np.float32)[:, None]
    fade = np.clip((ys - cam.horizon) / (0.35 * (h - cam.horizon)), 0.0, 1.0)
    img += (texture * fade)[..., None]
    path_colour = _colour(rng, (150, 165, 175) if cam.style == 2 else (105, 105, 110), 15)
    for lane in cam.lanes:
        on_path = np.abs(z_m - lane) < 0.9 + 0.1 * lane
        if cam.style != 2 and rng.random() < 0.5:
            continue  # streets and halls are paved anyway; only some lanes get a marked path
        img[on_path & below] = img[on_path & below] * 0.3 + path_colour * 0.7
    img += _low_noise(rng, h, w, 12, 8.0)[..., None]

    # Above the horizon: sky and building facades, a hall's back wall, or trees.
    top = np.linspace(0.0, 1.0, max(horizon, 1), dtype=np.float32)[:, None, None]
    if cam.style == 1:
        wall = _colour(rng, (175, 185, 195), 30)
        img[:horizon] = wall * (0.85 + 0.15 * top)
        for _ in range(int(rng.integers(2, 5))):  # doors and notice boards
            dx = int(rng.uniform(0, w - 40))
            dw = int(rng.uniform(0.05, 0.12) * w)
            dh = int(rng.uniform(0.4, 0.8) * horizon)
            img[horizon - dh : horizon, dx : dx + dw] = _colour(rng, (90, 100, 110), 50)
    else:
        sky = _colour(rng, (220, 190, 160), 25)
        img[:horizon] = sky * (0.8 + 0.2 * top)
        x = 0
        while x < w:
            bw = int(rng.uniform(0.12, 0.3) * w)
            bh = (
                int(rng.uniform(0.5, 1.0) * horizon)
                if cam.style == 0
                else int(rng.uniform(0.2, 0.5) * horizon)
            )
            colour = _colour(rng, (120, 130, 150) if cam.style == 0 else (50, 100, 60), 40)
            img[horizon - bh : horizon, x : x + bw] = colour
            if cam.style == 0:  # windows in a grid
                win = _colour(rng, (90, 70, 60), 30)
                for wy in range(horizon - bh + 6, horizon - 8, 14):
                    for wx in range(x + 5, x + bw - 8, 16):
                        img[wy : wy + 8, wx : wx + 8] = win
            x += bw + int(rng.integers(0, 12))
    # A kerb along the horizon, then a few poles or planters standing on the ground.
    img[max(horizon - 2, 0) : horizon + 1] *= 0.7
    for _ in range(int(rng.integers(1, 4))):
        z = float(rng.uniform(cam.z_near * 1.3, cam.z_far))
        side = float(rng.choice([-1.0, 1.0]))
        x_px, y_px, h_px = cam.project(side * cam.half_width_m(z) * rng.uniform(0.6, 0.95), z)
        pw = max(2, int(h_px * 0.05))
        colour = _colour(rng, (60, 60, 65), 20)
        x_px, y_px, h_px = int(x_px), int(y_px), int(h_px * rng.uniform(1.2, 1.8))
        img[max(y_px - h_px, 0) : y_px, max(x_px - pw, 0) : x_px + pw] = colour
    return np.clip(img, 0, 255).astype(np.uint8)
