"""Linear assignment thresholds, cosine galleries, gating and the order of the matching cascade."""

from __future__ import annotations

import numpy as np

from rfv_trackers.matching import (
    INFTY_COST,
    cosine_distance_to_galleries,
    gate,
    iou_xywh,
    linear_assignment,
    matching_cascade,
)


def test_linear_assignment_respects_the_threshold_and_caller_indices():
    cost = np.array([[0.1, 0.9], [0.8, 0.95]])
    matches, rows, cols = linear_assignment(cost, 0.5, [7, 9], [3, 4])
    assert matches == [(7, 3)]
    assert rows == [9] and cols == [4]
    # Globally optimal, not greedy: 0.2 + 0.15 rather than 0.1 with track 9 left over.
    cost = np.array([[0.1, 0.2], [0.15, 0.9]])
    matches, _, _ = linear_assignment(cost, 0.5, [7, 9], [3, 4])
    assert sorted(matches) == [(7, 4), (9, 3)]
    assert linear_assignment(np.zeros((0, 2)), 1.0, [], [1, 2]) == ([], [], [1, 2])


def test_gate_makes_pairs_impossible():
    cost = np.array([[0.1, 0.1]])
    gated = gate(cost, np.array([[1.0, 20.0]]), threshold=9.4877)
    assert gated[0, 0] == 0.1 and gated[0, 1] == INFTY_COST
    matches, _, cols = linear_assignment(gated, 0.5, [0], [0, 1])
    assert matches == [(0, 0)] and cols == [1]


def test_cosine_distance_is_the_nearest_gallery_sample():
    e = np.eye(3)
    galleries = [e[[0, 1]], e[[2]]]
    features = np.array([e[1], (e[0] + e[2]) / np.sqrt(2)])
    d = cosine_distance_to_galleries(galleries, features)
    np.testing.assert_allclose(d, [[0.0, 1 - 1 / np.sqrt(2)], [1.0, 1 - 1 / np.sqrt(2)]])


def test_iou():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])
    np.testing.assert_allclose(iou_xywh(a, b), [[1.0, 50 / 150, 0.0]])


def test_cascade_gives_recently_seen_tracks_priority():
    # Track 0 was missed for 2 frames and fits the detection better; track 1 was seen last frame.
    cost = np.array([[0.05], [0.15]])
    ages = [2, 1]

    def cost_fn(tracks: list[int], dets: list[int]) -> np.ndarray:
        return cost[np.ix_(tracks, dets)]

    matches, unmatched_tracks, unmatched_dets = matching_cascade(cost_fn, 0.2, ages, [0, 1], [0], depth=30)
    assert matches == [(1, 0)]
    assert unmatched_tracks == [0] and unmatched_dets == []
    # Plain assignment, without the cascade, would pick the older track.
    assert linear_assignment(cost, 0.2, [0, 1], [0])[0] == [(0, 0)]
    # Tracks older than the cascade depth are never matched.
    matches, unmatched_tracks, _ = matching_cascade(cost_fn, 0.2, [31, 31], [0, 1], [0], depth=30)
    assert matches == [] and unmatched_tracks == [0, 1]
