"""Batches: P labels x K images, camera balanced for TAUDL, a function of (seed, epoch), sliced per rank."""

from __future__ import annotations

import numpy as np
import pytest

from reid_from_video.core.errors import ConfigError
from reid_from_video.train.data import NOT_TRAINED
from reid_from_video.train.sampler import (
    camera_balanced_batches,
    epoch_rng,
    identity_batches,
    label_pools,
    rank_slice,
)


def _labels(sizes: list[int], unlabelled: int = 0) -> np.ndarray:
    labels = np.concatenate([np.full(n, i) for i, n in enumerate(sizes)] + [np.full(unlabelled, NOT_TRAINED)])
    return np.random.default_rng(0).permutation(labels)


def test_label_pools_leave_out_unlabelled_frames():
    labels = np.array([2, NOT_TRAINED, 0, 2, 0, 2])
    values, pools = label_pools(labels)
    assert values.tolist() == [0, 2]
    assert [p.tolist() for p in pools] == [[2, 4], [0, 3, 5]]


def test_identity_batches_are_p_distinct_labels_of_k_images_each():
    labels = _labels([1, 3, 6, 10, 2, 8, 5, 4, 7, 9], unlabelled=20)
    batches = identity_batches(labels, p=4, k=3, iters=0, rng=epoch_rng(0, 0, 0))
    assert len(batches) == 3  # ceil(10 labels / 4)
    seen = set()
    for batch in batches:
        assert len(batch) == 12
        got = labels[batch].reshape(4, 3)
        assert (got == got[:, :1]).all()  # K images of one label, consecutive
        assert len(set(got[:, 0])) == 4  # P distinct labels
        assert (got != NOT_TRAINED).all()
        seen |= set(got[:, 0].tolist())
    assert seen == set(range(10))  # one pass shows every label
    # A label with K or more images gives K distinct ones; one with fewer repeats them.
    for batch in batches:
        for group in batch.reshape(4, 3):
            if (labels == labels[group[0]]).sum() >= 3:
                assert len(set(group.tolist())) == 3


def test_batches_depend_on_seed_and_epoch_only():
    labels = _labels([4] * 12)
    a = identity_batches(labels, 4, 2, 5, epoch_rng(7, 3, 0))
    b = identity_batches(labels, 4, 2, 5, epoch_rng(7, 3, 0))
    c = identity_batches(labels, 4, 2, 5, epoch_rng(7, 4, 0))
    assert all((x == y).all() for x, y in zip(a, b, strict=True))
    assert any((x != y).any() for x, y in zip(a, c, strict=True))


def test_camera_balanced_batches_take_the_same_number_of_images_from_every_camera():
    # 3 cameras with 9, 4 and 2 labels (labels unique across cameras, as SSTT numbers them).
    cameras_of_label = np.array([0] * 9 + [1] * 4 + [2] * 2)
    labels = np.repeat(np.arange(15), 5)
    cameras = cameras_of_label[labels]
    batches = camera_balanced_batches(
        labels, cameras, p=6, k=2, iters=0, cameras_per_batch=0, rng=epoch_rng(0, 0, 0)
    )
    assert len(batches) == 5  # ceil(9 labels of the largest camera / 2 per camera)
    for batch in batches:
        counts = np.bincount(cameras[batch], minlength=3)
        assert counts.tolist() == [4, 4, 4]  # 2 labels x 2 images from each camera
    first_camera = np.concatenate([labels[b][cameras[b] == 0] for b in batches])
    assert set(first_camera.tolist()) == set(range(9))  # the largest camera's labels all appear


def test_camera_balanced_with_fewer_cameras_per_batch():
    labels = np.repeat(np.arange(12), 3)
    cameras = np.repeat(np.arange(4), 9)  # 3 labels per camera
    batches = camera_balanced_batches(
        labels, cameras, p=4, k=2, iters=6, cameras_per_batch=2, rng=epoch_rng(1, 0, 0)
    )
    assert len(batches) == 6
    for batch in batches:
        counts = np.bincount(cameras[batch], minlength=4)
        assert sorted(counts.tolist()) == [0, 0, 4, 4]


def test_camera_balanced_rejects_an_uneven_split():
    labels = np.repeat(np.arange(6), 2)
    cameras = np.repeat(np.arange(3), 4)
    with pytest.raises(ConfigError, match="a multiple of 3"):
        camera_balanced_batches(
            labels, cameras, p=4, k=2, iters=0, cameras_per_batch=0, rng=epoch_rng(0, 0, 0)
        )


def test_one_label_is_not_a_batch():
    with pytest.raises(ConfigError, match="at least 2"):
        identity_batches(np.zeros(10, np.int64), 4, 4, 0, epoch_rng(0, 0, 0))


def test_rank_slices_tile_the_global_batch():
    parts = [rank_slice(48, r, 4) for r in range(4)]
    assert [(s.start, s.stop) for s in parts] == [(0, 12), (12, 24), (24, 36), (36, 48)]
    with pytest.raises(ValueError, match="cannot be split"):
        rank_slice(50, 0, 4)
