"""labels.tmc + labels.quality: isolation undoes identity switches, association undoes fragmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io

from reid_from_video.io.mars import load_mars
from reid_from_video.labels.config import AssociationConfig, ClusterConfig, IsolationConfig, TmcConfig
from reid_from_video.labels.quality import label_quality, label_scores, row_labels, tracklet_noise
from reid_from_video.labels.tmc import (
    DROPPED,
    associate,
    association_windows,
    camera_centred,
    isolate,
    sub_tracklets,
    tmc_labels,
)
from reid_from_video.noise.config import SimulateConfig
from reid_from_video.noise.simulate import simulate


def write_mars_info(root: Path, identities: int, cameras: int, seed: int) -> Path:
    """A MARS info/ folder (no images): every identity in every camera, 1-3 tracklets of 20-60 frames."""
    rng = np.random.default_rng(seed)
    rows, start = [], 1
    for pid in range(1, identities + 1):
        for camera in range(1, cameras + 1):
            for _ in range(int(rng.integers(1, 4))):
                n = int(rng.integers(20, 61))
                rows.append([start, start + n - 1, pid, camera])
                start += n
    info = root / "info"
    info.mkdir(parents=True)
    scipy.io.savemat(info / "tracks_train_info.mat", {"track_train_info": np.array(rows, np.int32)})
    scipy.io.savemat(info / "tracks_test_info.mat", {"track_test_info": np.array([[1, 2, 1, 1]], np.int32)})
    scipy.io.savemat(info / "query_IDX.mat", {"query_IDX": np.array([[1]], np.uint16)})
    return root


def identity_features(index: pd.DataFrame, dim: int, noise: float, seed: int) -> np.ndarray:
    """Frame features: the frame's identity centre plus a camera shift and per-frame noise."""
    rng = np.random.default_rng(seed)
    ids = index["gt_id"].to_numpy(np.int64)
    cameras = pd.factorize(index["camera"])[0]
    centres = rng.normal(size=(ids.max() + 1, dim))
    shifts = 0.3 * rng.normal(size=(cameras.max() + 1, dim))
    return centres[ids] + shifts[cameras] + noise * rng.normal(size=(len(index), dim))


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    """Simulated noisy tracklets (rFM 2.5, rSW 1.5) with identity features."""
    root = write_mars_info(tmp_path_factory.mktemp("mars"), identities=40, cameras=3, seed=1)
    sim = simulate(load_mars(root), SimulateConfig(rfm=2.5, rsw=1.5, seed=2))
    index = sim.index.reset_index(drop=True)
    return index, identity_features(index, dim=64, noise=0.15, seed=3)


def test_isolation_brings_rsw_to_one_and_association_recovers_identities(noisy):
    index, features = noisy
    config = TmcConfig(association=AssociationConfig(cluster=ClusterConfig(rho=0.03, device="cpu")))
    result = tmc_labels(index, features, config)
    report = label_quality(index, row_labels(index, result.labels, result.sub_track), result.sub_track)
    before, after = report["tracklets_in"], report["after_isolation"]
    assert before["rsw"] == pytest.approx(1.5, abs=0.05)
    assert after["rsw"] < 1.02 and after["noise_ratio_pct"] < 0.5
    assert after["tracklets"] > before["tracklets"]
    scores = report["labels"]
    assert scores["ari"] > 0.9 and scores["purity"] > 0.98
    assert abs(scores["labels"] - scores["identities"]) <= 4
    assert scores["labelled_share"] > 0.9


def test_without_isolation_switches_stay(noisy):
    index, features = noisy
    sub_track = isolate(index, features, IsolationConfig(enabled=False))
    assert (sub_track == 0).all()
    report = label_quality(index, np.zeros(len(index), np.int64), sub_track)
    assert report["after_isolation"]["rsw"] == pytest.approx(report["tracklets_in"]["rsw"])


def _one_tracklet(frames: int) -> pd.DataFrame:
    return pd.DataFrame({"camera": "c1", "track": 7, "frame": np.arange(1, frames + 1)})


def test_isolation_splits_in_time_order_and_handles_noise_frames():
    # Frames 1-6 person B, 7-14 person A, frame 15 an outlier; sub-tracklets numbered by first frame.
    index = _one_tracklet(15)
    rng = np.random.default_rng(0)
    a, b, odd = np.eye(8)[0], np.eye(8)[1], np.eye(8)[2]
    feats = np.concatenate([np.tile(b, (6, 1)), np.tile(a, (8, 1)), odd[None]])
    feats += 0.01 * rng.normal(size=(15, 8))
    expected = np.array([0] * 6 + [1] * 8)
    dropped = isolate(index, feats, IsolationConfig(eps=0.3, min_samples=3, noise="drop"))
    np.testing.assert_array_equal(dropped, [*expected, DROPPED])
    separate = isolate(index, feats, IsolationConfig(eps=0.3, min_samples=3, noise="separate"))
    np.testing.assert_array_equal(separate, [*expected, 2])
    feats[14] = a + 0.5 * odd  # now nearer A's centre than B's
    nearest = isolate(index, feats, IsolationConfig(eps=0.3, min_samples=3, noise="nearest"))
    np.testing.assert_array_equal(nearest, [*expected, 1])
    groups = sub_tracklets(index, dropped)
    assert groups["sub_track"].tolist() == [0, 1]
    np.testing.assert_array_equal(groups["rows"][1], np.arange(6, 14))


def test_tracklet_without_a_cluster_is_kept_or_dropped():
    index = _one_tracklet(3)  # shorter than min_samples
    feats = np.eye(3)
    assert (isolate(index, feats, IsolationConfig(min_samples=4)) == 0).all()
    assert (isolate(index, feats, IsolationConfig(min_samples=4, keep_unclustered=False)) == DROPPED).all()


def test_association_windows_are_consecutive():
    rng = np.random.default_rng(0)
    rows = [np.arange(100, 150), np.arange(5)]
    long, short = association_windows(rows, 32, rng)
    assert len(long) == 32 and (np.diff(long) == 1).all() and 100 <= long[0] <= 118
    np.testing.assert_array_equal(short, np.arange(5))


def test_unclustered_sub_tracklets_dropped_or_own_label():
    rng = np.random.default_rng(1)
    ids = np.repeat(np.arange(10), 8)
    feats = rng.normal(size=(10, 32))[ids] + 0.1 * rng.normal(size=(80, 32))
    loners = 5 * rng.normal(size=(3, 32))
    index = pd.DataFrame({"camera": "c1", "track": np.arange(83), "frame": 1})
    all_feats = np.concatenate([feats, loners])
    cluster = ClusterConfig(distance="cosine", eps=0.1, min_samples=3, device="cpu")
    plain = IsolationConfig(enabled=False)
    dropped = tmc_labels(index, all_feats, TmcConfig(plain, AssociationConfig(cluster=cluster)))
    assert len(dropped.labels) == 80 and dropped.labels["label"].nunique() == 10
    own_config = TmcConfig(plain, AssociationConfig(unclustered="own", cluster=cluster))
    own = tmc_labels(index, all_feats, own_config)
    assert len(own.labels) == 83 and own.labels["label"].nunique() == 13


def test_camera_centring_lets_a_person_meet_itself_across_cameras():
    # 6 people seen by 2 cameras; each camera adds its own large cast to every feature it sees.
    rng = np.random.default_rng(2)
    people = rng.normal(size=(6, 16))
    cast = 4 * rng.normal(size=(2, 16))
    ids = np.tile(np.repeat(np.arange(6), 2), 2)  # 2 pieces per person per camera
    cameras = np.repeat([0, 1], 12)
    features = people[ids] + cast[cameras] + 0.05 * rng.normal(size=(24, 16))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    config = AssociationConfig(cluster=ClusterConfig(distance="cosine", eps=0.2, min_samples=2, device="cpu"))
    plain, _ = associate(features, config)
    assert (plain >= 0).any()
    assert all(len(set(cameras[plain == k])) == 1 for k in set(plain.tolist()) if k >= 0)
    config.camera_centring = True
    centred, _ = associate(features, config, cameras)
    assert centred.max() + 1 == 6 and (centred >= 0).all()
    for k in range(6):  # each cluster is one person, in both cameras
        assert len(set(ids[centred == k])) == 1 and len(set(cameras[centred == k])) == 2
    # By hand: each camera's mean is gone, rows are unit length again.
    expected = features.copy()
    for camera in (0, 1):
        expected[cameras == camera] -= features[cameras == camera].mean(axis=0)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(camera_centred(features, cameras), expected, atol=1e-6)
    with pytest.raises(ValueError, match="camera"):
        associate(features, config)


def test_quality_figures_by_hand():
    # Camera c1: tracklet 1 = ids 5,5,6 (switch), tracklet 2 = id 5; camera c2: tracklet 1 = id 5.
    index = pd.DataFrame(
        {
            "camera": ["c1", "c1", "c1", "c1", "c2", "c2"],
            "track": [1, 1, 1, 2, 1, 1],
            "gt_id": pd.array([5, 5, 6, 5, 5, pd.NA], dtype="Int64"),
        }
    )
    identity = np.array([5, 5, 6, 5, 5, -1])
    noise = tracklet_noise(index, index["track"].to_numpy(), identity)
    # Incidences (c1,1,5) (c1,1,6) (c1,2,5) (c2,1,5): 4 over 3 tracklets and 3 (camera, id).
    assert noise["tracklets"] == 3
    assert noise["rsw"] == pytest.approx(4 / 3) and noise["rfm"] == pytest.approx(4 / 3)
    assert noise["noise_ratio_pct"] == pytest.approx(100 * (1 / 3) / 3)
    labels = np.array([0, 0, 0, 1, 0, 0])
    scores = label_scores(labels, identity)
    # Label 0 holds ids 5,5,6,5 (3 of 4 its majority), label 1 holds 5: purity 4 / 5.
    assert scores["purity"] == pytest.approx(0.8)
    assert scores["labels"] == 2 and scores["identities"] == 2 and scores["frames_without_gt"] == 1
    # Leaving the switched frame (id 6) unlabelled: the 4 labelled frames are pure, 4 of 5 gt frames in all.
    partial = label_scores(np.array([0, 0, -1, 1, 0, 0]), identity)
    assert partial["purity"] == 1.0 and partial["pure_share"] == pytest.approx(0.8)
    labels_table = pd.DataFrame({"camera": ["c1", "c2"], "track": [2, 1], "label": [3, 4]})
    np.testing.assert_array_equal(row_labels(index, labels_table), [-1, -1, -1, 3, 4, 4])
