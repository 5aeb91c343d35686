"""Shared box primitives: IoU bit-identical to the peers' arithmetic, per-frame slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reid_from_video.noise.boxes import frame_slices, iou_xywh
from reid_from_video.noise.preprocess import match_pairs


def test_iou_values_by_hand_and_bit_identical_to_motmetrics():
    iou = iou_xywh([[0, 0, 10, 10], [5, 5, 10, 10]], [[0, 0, 10, 10], [10, 10, 1, 1], [3, 3, 0, 0]])
    np.testing.assert_array_equal(iou, [[1.0, 0.0, 0.0], [25 / 175, 1 / 100, 0.0]])
    distances = pytest.importorskip("motmetrics.distances")
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 500, (40, 4)).round(2), rng.uniform(0, 500, (50, 4)).round(2)
    np.testing.assert_array_equal(iou_xywh(a, b), distances.boxiou(a[:, None], b[None, :]))
    assert iou_xywh(np.empty((0, 4)), b).shape == (0, 50)


def test_match_pairs_maximises_total_iou_above_threshold():
    iou = np.array([[0.9, 0.6], [0.8, 0.0], [0.3, 0.4]])
    rows, cols = match_pairs(iou, 0.5)
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 1), (1, 0)]  # 1.4 beats 0.9
    assert match_pairs(np.array([[0.5]]), 0.5)[0].tolist() == [0]  # at the threshold: a match
    assert match_pairs(np.empty((0, 3)), 0.5)[0].size == 0


def test_frame_slices():
    table = pd.DataFrame({"frame": [1, 1, 3, 4, 4, 4]})
    assert frame_slices(table) == {1: slice(0, 2), 3: slice(2, 3), 4: slice(3, 6)}
    assert frame_slices(table.iloc[:0]) == {}
    with pytest.raises(ValueError, match="sorted"):
        frame_slices(pd.DataFrame({"frame": [2, 1]}))
