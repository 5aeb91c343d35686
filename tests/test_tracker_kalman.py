"""Kalman predict / update / gating against values computed by hand, and the gating table."""

from __future__ import annotations

import numpy as np
import pytest

from rfv_trackers.kalman import CHI2INV95, KalmanFilter, xyah_to_xywh, xywh_to_xyah


def test_box_conversions_round_trip():
    boxes = np.array([[10.0, 20.0, 30.0, 60.0]])
    xyah = xywh_to_xyah(boxes)
    np.testing.assert_allclose(xyah, [[25.0, 50.0, 0.5, 60.0]])
    np.testing.assert_allclose(xyah_to_xywh(xyah), boxes)


def test_chi_square_table_is_the_95_percent_quantile():
    stats = pytest.importorskip("scipy.stats")
    for dof, value in CHI2INV95.items():
        assert value == pytest.approx(stats.chi2.ppf(0.95, dof), abs=1e-4)


def test_initiate_predict_update_by_hand():
    kf = KalmanFilter()  # position std h/20 = 5, velocity std h/160 = 0.625 for h = 100
    mean, cov = kf.initiate(np.array([[10.0, 20.0, 0.5, 100.0]]))
    np.testing.assert_allclose(mean[0], [10, 20, 0.5, 100, 0, 0, 0, 0])
    # initial std: 2 * 5 for positions, 1e-2 for the aspect, 10 * 0.625 for velocities
    np.testing.assert_allclose(np.diag(cov[0]), [100, 100, 1e-4, 100, 39.0625, 39.0625, 1e-10, 39.0625])

    mean, cov = kf.predict(mean, cov)
    np.testing.assert_allclose(mean[0], [10, 20, 0.5, 100, 0, 0, 0, 0])  # zero velocity: no motion
    # P' = F P F^T + Q: x variance 100 + 39.0625 (velocity) + 25 (process), covariance x/vx = 39.0625
    assert cov[0, 0, 0] == pytest.approx(164.0625)
    assert cov[0, 0, 4] == pytest.approx(39.0625)
    assert cov[0, 4, 4] == pytest.approx(39.0625 + 0.390625)
    assert cov[0, 2, 2] == pytest.approx(2e-4 + 1e-10)

    # Squared Mahalanobis distance of a measurement 2 px to the right: 4 / S_xx with S_xx = 164.0625 + 25.
    z = np.array([[12.0, 20.0, 0.5, 100.0]])
    assert kf.gating_distance(mean, cov, z)[0, 0] == pytest.approx(4 / 189.0625)

    new_mean, new_cov = kf.update(mean, cov, z)
    gain_x, gain_vx = 164.0625 / 189.0625, 39.0625 / 189.0625
    assert new_mean[0, 0] == pytest.approx(10 + 2 * gain_x)
    assert new_mean[0, 4] == pytest.approx(2 * gain_vx)
    np.testing.assert_allclose(new_mean[0, [1, 2, 3, 5, 6, 7]], [20, 0.5, 100, 0, 0, 0], atol=1e-12)
    assert new_cov[0, 0, 0] == pytest.approx(164.0625 * 25 / 189.0625)  # (1 - K) P


def test_batches_are_independent():
    kf = KalmanFilter()
    mean, cov = kf.initiate(np.array([[10.0, 20.0, 0.5, 100.0], [300.0, 50.0, 0.4, 50.0]]))
    mean, cov = kf.predict(mean, cov)
    z = np.array([[12.0, 21.0, 0.5, 101.0], [295.0, 52.0, 0.41, 49.0]])
    both = kf.update(mean, cov, z)
    for i in range(2):
        single = kf.update(mean[i : i + 1], cov[i : i + 1], z[i : i + 1])
        np.testing.assert_allclose(both[0][i], single[0][0])
        np.testing.assert_allclose(both[1][i], single[1][0])
    distances = kf.gating_distance(mean, cov, z)
    assert distances.shape == (2, 2)
    assert distances[0, 0] < CHI2INV95[4] < distances[0, 1]  # the far box is gated out


def test_nsa_update_scales_the_measurement_noise_by_hand():
    """StrongSORT's NSA Kalman: R times (1 - score). Checked against the textbook update with that R."""
    kf = KalmanFilter()
    mean, cov = kf.initiate(np.array([[50.0, 80.0, 0.4, 100.0]]))
    mean, cov = kf.predict(mean, cov)
    z = np.array([[53.0, 78.0, 0.42, 104.0]])
    scale = np.array([0.25])
    h = mean[0, 3]
    r = np.diag([(0.05 * h) ** 2, (0.05 * h) ** 2, 0.1**2, (0.05 * h) ** 2]) * 0.25
    hm = np.hstack([np.eye(4), np.zeros((4, 4))])
    s = hm @ cov[0] @ hm.T + r
    gain = cov[0] @ hm.T @ np.linalg.inv(s)
    expected_mean = mean[0] + gain @ (z[0] - hm @ mean[0])
    expected_cov = cov[0] - gain @ s @ gain.T
    new_mean, new_cov = kf.update(mean, cov, z, scale)
    np.testing.assert_allclose(new_mean[0], expected_mean, rtol=1e-10)
    np.testing.assert_allclose(new_cov[0], expected_cov, rtol=1e-9, atol=1e-12)
    plain_mean, _ = kf.update(mean, cov, z)
    np.testing.assert_allclose(kf.update(mean, cov, z, np.ones(1))[0], plain_mean)
    # a confident detection (small noise) pulls the state closer to itself than the plain update does
    assert np.abs(new_mean[0, :4] - z[0]).sum() < np.abs(plain_mean[0, :4] - z[0]).sum()
