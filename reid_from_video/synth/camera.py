"""What one camera does to the scene: a pinhole projection of the ground plane and its own photometry.

Geometry: a camera ``height`` metres above flat ground looks horizontally; the horizon is image row
``horizon``, the focal length ``focal`` pixels. A point on the ground at lateral offset X and depth Z metres
lands at column ``width / 2 + focal * X / Z`` and row ``horizon + focal * height / Z``, and a person of
1.7 m stands ``focal * 1.7 / Z`` pixels tall. Cameras differ in horizon, mounting height and zoom, so the
same person appears at different scales and with different speeds in pixels.

Photometry: a colour cast (per-channel gain), brightness, contrast, gamma, saturation, blur and sensor
noise, applied to the whole frame after the people are drawn, so that matching across cameras is harder than
within one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

PERSON_HEIGHT_M = 1.7
NOISE_BANK = 8  # precomputed noise frames per camera, drawn at random offsets: full-frame noise is costly


@dataclass(frozen=True)
class Photometric:
    gain_bgr: tuple[float, float, float]
    brightness: float
    contrast: float
    gamma: float
    saturation: float
    blur_sigma: float
    noise_sigma: float


@dataclass(frozen=True)
class CameraSpec:
    """One camera: name, frame size, projection, the walkable depth range, and photometry."""

    index: int  # 1-based
    name: str
    width: int
    height: int
    horizon: float
    mount_height: float
    focal: float
    z_near: float  # the depth whose feet are at the bottom row
    z_far: float  # the farthest depth people walk at
    lanes: tuple[float, ...]  # depths of the walkways, metres
    style: int  # which background style
    photometric: Photometric

    def project(self, x_m: np.ndarray | float, z_m: np.ndarray | float) -> tuple:
        """(column of the feet, row of the feet, person height in pixels for a 1.7 m person)."""
        x_m, z_m = np.asarray(x_m, float), np.asarray(z_m, float)
        return (
            self.width / 2 + self.focal * x_m / z_m,
            self.horizon + self.focal * self.mount_height / z_m,
            self.focal * PERSON_HEIGHT_M / z_m,
        )

    def half_width_m(self, z_m: float) -> float:
        """Half the visible ground width at depth ``z_m``, metres."""
        return self.width / 2 * z_m / self.focal

    def to_dict(self) -> dict:
        return asdict(self)


def random_camera(
    rng: np.random.Generator, index: int, width: int, height: int, style_offset: int = 0
) -> CameraSpec:
    """Camera ``index`` (1-based); consecutive cameras get different background styles."""
    horizon = height * rng.uniform(0.18, 0.4)
    mount = rng.uniform(2.6, 4.2)
    focal = width * rng.uniform(0.75, 1.25)
    z_near = focal * mount / (height - horizon)
    # People stay large enough to be seen and re-identified: the far end at about half the near size.
    z_far = z_near * rng.uniform(1.8, 2.4)
    n_lanes = int(rng.integers(2, 4))
    lanes = np.sort(rng.uniform(z_near * 1.1, z_far * 0.85, size=n_lanes))
    photometric = Photometric(
        gain_bgr=tuple(float(g) for g in rng.uniform(0.8, 1.2, size=3)),
        brightness=float(rng.uniform(-25, 25)),
        contrast=float(rng.uniform(0.75, 1.2)),
        gamma=float(rng.uniform(0.8, 1.25)),
        saturation=float(rng.uniform(0.55, 1.25)),
        blur_sigma=float(rng.choice([0.0, rng.uniform(0.5, 1.3)])),
        noise_sigma=float(rng.uniform(1.5, 7.0)),
    )
    return CameraSpec(
        index=index,
        name=f"cam{index}",
        width=width,
        height=height,
        horizon=float(horizon),
        mount_height=float(mount),
        focal=float(focal),
        z_near=float(z_near),
        z_far=float(z_far),
        lanes=tuple(float(z) for z in lanes),
        style=(index - 1 + style_offset) % 3,
        photometric=photometric,
    )


class PhotometricFilter:
    """Applies one camera's photometry to frames: a per-channel lookup table, then blur and noise."""

    def __init__(self, photometric: Photometric, width: int, height: int, rng: np.random.Generator):
        p = photometric
        levels = np.arange(256, dtype=np.float64) / 255.0
        table = np.empty((256, 1, 3), np.uint8)
        for c in range(3):
            v = np.clip(levels * p.gain_bgr[c], 0, 1) ** p.gamma
            v = (v - 0.5) * p.contrast + 0.5 + p.brightness / 255.0
            table[:, 0, c] = np.clip(np.round(v * 255), 0, 255).astype(np.uint8)
        self.table = table
        self.p = p
        self.rng = rng
        shape = (NOISE_BANK, height, width, 3)
        self.noise = np.clip(np.round(rng.normal(0, p.noise_sigma, size=shape)), -127, 127).astype(np.int16)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        out = cv2.LUT(image, self.table)
        if abs(self.p.saturation - 1.0) > 1e-3:
            gray = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
            out = cv2.addWeighted(out, self.p.saturation, gray, 1.0 - self.p.saturation, 0.0)
        if self.p.blur_sigma > 0:
            out = cv2.GaussianBlur(out, (0, 0), self.p.blur_sigma)
        noise = self.noise[int(self.rng.integers(NOISE_BANK))]
        # A random roll makes consecutive frames' noise differ although the bank is small.
        noise = np.roll(noise, int(self.rng.integers(noise.shape[1])), axis=1)
        return np.clip(out.astype(np.int16) + noise, 0, 255).astype(np.uint8)
