"""Constant-velocity Kalman filter in DeepSORT's box space, batched over tracks.

State (8): centre x, centre y, aspect ratio a = w / h, height h, and their velocities. Measurement (4):
(cx, cy, a, h). Process and measurement noise scale with the box height, as in the paper, so that a large
(near) person may move more pixels per frame than a small (far) one. Every function takes a batch: means
(N, 8) and covariances (N, 8, 8), so a frame's tracks are predicted in one call.
"""

from __future__ import annotations

import numpy as np

# 0.95 quantile of the chi-square distribution with k degrees of freedom (scipy.stats.chi2.ppf(0.95, k)).
CHI2INV95 = {
    1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.0705, 6: 12.5916, 7: 14.0671, 8: 15.5073, 9: 16.919,
}  # fmt: skip

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)  # x_{t+1} = x_t + v_t (one frame)


def xywh_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) top-left x, y, width, height -> centre x, centre y, aspect w/h, height."""
    boxes = np.asarray(boxes, dtype=float)
    out = boxes.copy()
    out[:, :2] += boxes[:, 2:] / 2
    out[:, 2] = boxes[:, 2] / boxes[:, 3]
    return out


def xyah_to_xywh(states: np.ndarray) -> np.ndarray:
    """(N, >=4) states -> (N, 4) top-left x, y, width, height."""
    w = states[:, 2] * states[:, 3]
    h = states[:, 3]
    return np.stack([states[:, 0] - w / 2, states[:, 1] - h / 2, w, h], axis=1)


class KalmanFilter:
    """The filter's noise model; the states live with the caller as batches."""

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160):
        self.std_pos = std_weight_position
        self.std_vel = std_weight_velocity

    def initiate(self, measurements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New states from (N, 4) xyah measurements: zero velocity, uncertainty relative to height."""
        z = np.asarray(measurements, dtype=float).reshape(-1, 4)
        h = z[:, 3]
        mean = np.concatenate([z, np.zeros_like(z)], axis=1)
        std = np.stack(
            [
                2 * self.std_pos * h,
                2 * self.std_pos * h,
                np.full_like(h, 1e-2),
                2 * self.std_pos * h,
                10 * self.std_vel * h,
                10 * self.std_vel * h,
                np.full_like(h, 1e-5),
                10 * self.std_vel * h,
            ],
            axis=1,
        )
        return mean, _diag(std**2)

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame ahead: x' = F x, P' = F P F^T + Q, with Q from the heights before the step."""
        h = mean[:, 3]
        pos, vel = self.std_pos * h, self.std_vel * h
        std = np.stack([pos, pos, np.full_like(h, 1e-2), pos, vel, vel, np.full_like(h, 1e-5), vel], axis=1)
        mean = mean @ _F.T
        cov = _F @ cov @ _F.T + _diag(std**2)
        return mean, cov

    def project(
        self, mean: np.ndarray, cov: np.ndarray, noise_scale: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The states in measurement space: H x and H P H^T + R, R times ``noise_scale`` (N,) if given."""
        h = mean[:, 3]
        pos = self.std_pos * h
        std = np.stack([pos, pos, np.full_like(h, 1e-1), pos], axis=1)
        r = _diag(std**2)
        if noise_scale is not None:
            r = r * np.asarray(noise_scale, dtype=float)[:, None, None]
        return mean[:, :4], cov[:, :4, :4] + r

    def update(
        self,
        mean: np.ndarray,
        cov: np.ndarray,
        measurements: np.ndarray,
        noise_scale: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Correct each state with its (N, 4) xyah measurement (standard Kalman gain). ``noise_scale`` (N,)
        multiplies each measurement's noise: StrongSORT's NSA Kalman passes 1 - detection score, so that a
        confident detection pulls the state harder than a doubtful one."""
        z_mean, s = self.project(mean, cov, noise_scale)
        pht = cov[:, :, :4]  # P H^T
        gain = np.linalg.solve(s, pht.transpose(0, 2, 1)).transpose(0, 2, 1)  # P H^T S^-1 (S symmetric)
        innovation = np.asarray(measurements, dtype=float) - z_mean
        mean = mean + np.einsum("nij,nj->ni", gain, innovation)
        cov = cov - gain @ s @ gain.transpose(0, 2, 1)
        return mean, cov

    def gating_distance(
        self, mean: np.ndarray, cov: np.ndarray, measurements: np.ndarray, only_position: bool = False
    ) -> np.ndarray:
        """(N tracks, M measurements) squared Mahalanobis distances in measurement space."""
        z_mean, s = self.project(mean, cov)
        z = np.asarray(measurements, dtype=float).reshape(-1, 4)
        if only_position:
            z_mean, s, z = z_mean[:, :2], s[:, :2, :2], z[:, :2]
        d = z[None, :, :] - z_mean[:, None, :]  # (N, M, k)
        solved = np.linalg.solve(s, d.transpose(0, 2, 1))  # S^-1 d^T: (N, k, M)
        return np.einsum("nmk,nkm->nm", d, solved)


def _diag(values: np.ndarray) -> np.ndarray:
    """(N, k) -> (N, k, k) diagonal matrices."""
    n, k = values.shape
    out = np.zeros((n, k, k))
    out[:, np.arange(k), np.arange(k)] = values
    return out
