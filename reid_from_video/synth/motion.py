"""Where a person walks during one appearance in one camera: keyframes on the ground plane.

A path enters the view from a side (left, right, or the far end of the scene), passes one or two
waypoints, mostly along the camera's walkways ("lanes", where people walking in opposite directions cross
and occlude each other), sometimes pauses, and leaves by a side. Positions between keyframes are linear in
time; the walking phase follows the distance walked, so legs stop when a person pauses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reid_from_video.synth.camera import CameraSpec

SIDES = ("left", "right", "far")
OFFSCREEN_M = 0.9  # how far beyond the frame edge a path starts and ends: the whole body is out of view
STEP_M = 0.72  # stride length of an average person, metres (one leg cycle is two steps)


@dataclass(frozen=True)
class Path:
    """Keyframes ``t`` (seconds, world clock), ground position ``x``, ``z`` (metres), distance walked."""

    t: np.ndarray
    x: np.ndarray
    z: np.ndarray
    dist: np.ndarray

    @property
    def t_in(self) -> float:
        return float(self.t[0])

    @property
    def t_out(self) -> float:
        return float(self.t[-1])

    def at(self, time_s: float) -> tuple[float, float, float, float, float]:
        """(x, z, distance walked, speed in m/s, index of the keyframe segment) at ``time_s``."""
        i = int(np.clip(np.searchsorted(self.t, time_s, side="right") - 1, 0, len(self.t) - 2))
        t0, t1 = self.t[i], self.t[i + 1]
        a = 0.0 if t1 <= t0 else float(np.clip((time_s - t0) / (t1 - t0), 0.0, 1.0))
        x = self.x[i] + a * (self.x[i + 1] - self.x[i])
        z = self.z[i] + a * (self.z[i + 1] - self.z[i])
        dist = self.dist[i] + a * (self.dist[i + 1] - self.dist[i])
        speed = 0.0 if t1 <= t0 else (self.dist[i + 1] - self.dist[i]) / (t1 - t0)
        return float(x), float(z), float(dist), float(speed), i

    def to_dict(self) -> dict:
        return {
            "t": [round(float(v), 4) for v in self.t],
            "x": [round(float(v), 4) for v in self.x],
            "z": [round(float(v), 4) for v in self.z],
        }


def _side_point(rng: np.random.Generator, cam: CameraSpec, side: str, lane: float) -> tuple[float, float]:
    if side == "far":
        z = cam.z_far * 1.02
        return float(rng.uniform(-0.6, 0.6) * cam.half_width_m(z)), z
    z = float(np.clip(lane + rng.normal(0, 0.4), cam.z_near * 1.05, cam.z_far))
    x = cam.half_width_m(z) + OFFSCREEN_M
    return (-x if side == "left" else x), z


def _waypoint(rng: np.random.Generator, cam: CameraSpec, lane: float, fraction: float) -> tuple[float, float]:
    """A point inside the view, on (or near) ``lane``, a ``fraction`` of the way across."""
    on_lane = rng.random() < 0.75
    z = lane + rng.normal(0, 0.35) if on_lane else rng.uniform(cam.z_near * 1.1, cam.z_far * 0.95)
    z = float(np.clip(z, cam.z_near * 1.05, cam.z_far))
    x = (2 * fraction - 1 + rng.normal(0, 0.15)) * 0.85 * cam.half_width_m(z)
    return float(x), z


def plan_path(
    rng: np.random.Generator, cam: CameraSpec, entry: str, exit: str, speed: float, t_in: float
) -> Path:
    """A path from side ``entry`` to side ``exit`` at about ``speed`` m/s, starting at ``t_in``."""
    lane = float(cam.lanes[int(rng.integers(len(cam.lanes)))])
    points = [_side_point(rng, cam, entry, lane)]
    n_way = int(rng.integers(1, 3))
    # Waypoints progress across the view in the direction of travel (left to right when leaving right).
    going_right = exit == "right" or (exit == "far" and entry == "left")
    if exit == "far" and entry == "far":
        going_right = bool(rng.random() < 0.5)
    for k in range(n_way):
        fraction = (k + 1) / (n_way + 1)
        if rng.random() < 0.25:  # a lane change on the way
            lane = float(cam.lanes[int(rng.integers(len(cam.lanes)))])
        points.append(_waypoint(rng, cam, lane, fraction if going_right else 1 - fraction))
    points.append(_side_point(rng, cam, exit, lane))

    pause_at = int(rng.integers(1, len(points) - 1)) if rng.random() < 0.3 else -1
    times, xs, zs, dists = [t_in], [points[0][0]], [points[0][1]], [0.0]
    for k in range(1, len(points)):
        (x0, z0), (x1, z1) = points[k - 1], points[k]
        step = float(np.hypot(x1 - x0, z1 - z0))
        seg_speed = speed * rng.uniform(0.88, 1.12)
        times.append(times[-1] + step / seg_speed)
        xs.append(x1)
        zs.append(z1)
        dists.append(dists[-1] + step)
        if k == pause_at:
            times.append(times[-1] + rng.uniform(1.5, 6.0))
            xs.append(x1)
            zs.append(z1)
            dists.append(dists[-1])
    return Path(np.array(times), np.array(xs), np.array(zs), np.array(dists))
