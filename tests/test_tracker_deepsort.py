"""DeepSort end to end on synthetic detections: life cycle, gating, crossing, second association."""

from __future__ import annotations

import numpy as np
import pytest

from rfv_trackers import DeepSort, DeepSortConfig
from rfv_trackers.track import TrackState


def _box(cx: float, cy: float = 100.0, w: float = 40.0, h: float = 100.0) -> list[float]:
    return [cx - w / 2, cy - h / 2, w, h]


def test_life_cycle_tentative_confirmed_deleted():
    tracker = DeepSort(DeepSortConfig(n_init=3, max_age=5))
    outputs = [tracker.update(np.array([_box(100 + 2 * k)])) for k in range(3)]
    assert [len(o) for o in outputs] == [0, 0, 1]  # reported once confirmed, at the 3rd hit
    assert outputs[2].ids.tolist() == [1] and outputs[2].det_index.tolist() == [0]
    assert tracker.tracks[0].state == TrackState.CONFIRMED
    for _ in range(5):  # missed max_age frames: still alive, not reported (output_missed=0)
        assert len(tracker.update(np.zeros((0, 4)))) == 0
    assert len(tracker.tracks) == 1
    tracker.update(np.zeros((0, 4)))  # one more: deleted
    assert tracker.tracks == []


def test_tentative_track_dies_on_first_miss_and_ids_are_not_reused():
    tracker = DeepSort(DeepSortConfig(n_init=3))
    tracker.update(np.array([_box(100)]))
    tracker.update(np.zeros((0, 4)))
    assert tracker.tracks == []
    tracker.update(np.array([_box(100)]))
    assert tracker.tracks[0].track_id == 2


def test_output_missed_and_tentative_flags():
    tracker = DeepSort(DeepSortConfig(n_init=2, output_missed=1, output_tentative=True))
    first = tracker.update(np.array([_box(100)]))
    assert first.confirmed.tolist() == [False]
    assert tracker.update(np.array([_box(102)])).confirmed.tolist() == [True]
    missed = tracker.update(np.zeros((0, 4)))
    assert missed.ids.tolist() == [1] and missed.det_index.tolist() == [-1]
    assert missed.boxes[0, 0] > _box(102)[0]  # the predicted box moved on with the track's velocity
    assert len(tracker.update(np.zeros((0, 4)))) == 0


def test_mahalanobis_gate_blocks_a_far_detection_with_the_same_appearance():
    feature = np.array([[1.0, 0.0]])
    tracker = DeepSort(DeepSortConfig(n_init=1))
    for k in range(5):
        tracker.update(np.array([_box(100 + k)]), features=feature)
    out = tracker.update(np.array([_box(600)]), features=feature)  # same look, 500 px away
    assert out.ids.tolist() == [2]  # a new track: the old one was gated out


def test_max_age_scales_with_fps():
    config = DeepSortConfig(max_age=30, reference_fps=30)
    assert DeepSort(config, fps=15).max_age == 15
    assert DeepSort(config).max_age == 30
    assert DeepSort(DeepSortConfig(max_age=30), fps=15).max_age == 30


def _crossing(steps: int = 40) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two people walking towards each other; they overlap fully mid-way, one is hidden for 3 frames."""
    boxes, features = [], []
    looks = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    rng = np.random.default_rng(0)
    for k in range(steps):
        a, b = 100 + 10 * k, 500 - 10 * k
        frame = [_box(a), _box(b, cy=105)]
        look = looks + 0.05 * rng.standard_normal(looks.shape)
        if 19 <= k <= 21:  # b walks behind a: only a is detected
            frame, look = frame[:1], look[:1]
        boxes.append(np.array(frame))
        features.append(look / np.linalg.norm(look, axis=1, keepdims=True))
    return boxes, features


@pytest.mark.parametrize("with_appearance", [True, False])
def test_identities_survive_a_crossing(with_appearance: bool):
    boxes, features = _crossing()
    tracker = DeepSort(DeepSortConfig())
    first_ids: dict[int, int] = {}
    for k, (frame, look) in enumerate(zip(boxes, features, strict=True)):
        out = tracker.update(frame, features=look if with_appearance else None)
        for track_id, det in zip(out.ids, out.det_index, strict=True):
            person = int(det) if len(frame) == 2 else 0
            if det < 0:
                continue
            first_ids.setdefault(person, int(track_id))
            assert first_ids[person] == track_id, f"frame {k}: person {person} got track {track_id}"
    assert sorted(first_ids) == [0, 1] and first_ids[0] != first_ids[1]


def test_low_score_detections_keep_a_track_alive_but_never_start_one():
    config = DeepSortConfig(n_init=1, max_age=1, low_score=0.5)
    tracker = DeepSort(config)
    tracker.update(np.array([_box(100)]), scores=np.array([0.9]))
    for k in range(1, 5):  # occluded: only weak detections, the track follows them
        out = tracker.update(np.array([_box(100 + 2 * k)]), scores=np.array([0.3]))
        assert out.ids.tolist() == [1]
    out = tracker.update(np.array([_box(900)]), scores=np.array([0.3]))
    assert len(out) == 0 and len(tracker.tracks) == 1  # a lone weak detection starts nothing


def test_gallery_budget():
    tracker = DeepSort(DeepSortConfig(n_init=1, nn_budget=3))
    for k in range(6):
        tracker.update(np.array([_box(100 + k)]), features=np.array([[1.0, 0.0]]))
    assert tracker.galleries[1].shape == (3, 2)


def test_preset_holds_the_defaults():
    """reid_from_video/configs/trackers/deepsort.yaml documents the paper's settings: exactly the defaults."""
    from reid_from_video.core.config import PRESETS_DIR, load_config

    assert load_config(DeepSortConfig, PRESETS_DIR / "trackers" / "deepsort.yaml") == DeepSortConfig()


def _unit(v: list[float]) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def test_ema_memory_is_the_normalised_moving_average_of_the_features():
    tracker = DeepSort(DeepSortConfig(n_init=1, appearance_memory="ema", ema_alpha=0.8))
    features = [_unit([1, 0, 0]), _unit([1, 1, 0]), _unit([0, 1, 1]), _unit([0, 0, 1])]
    for k, f in enumerate(features):
        tracker.update(np.array([_box(100 + k)]), features=f[None, :])
    expected = features[0]
    for f in features[1:]:  # by hand: e = 0.8 e + 0.2 f, L2-normalised at each step
        expected = 0.8 * expected + 0.2 * f
        expected = expected / np.linalg.norm(expected)
    assert tracker.galleries[1].shape == (1, 3)
    np.testing.assert_allclose(tracker.galleries[1][0], expected, atol=1e-12)


@pytest.mark.parametrize(("matching", "winner"), [("cascade", 1), ("global", 2)])
def test_global_matching_gives_a_detection_to_the_nearest_track_not_the_most_recent(matching, winner):
    """Two people at one place, A (id 1) seen last frame and B (id 2) missed once; the next detection looks
    more like B (cosine distance 0.2) than A (0.4). DeepSORT's cascade offers it to the recent A first
    and A takes it (0.4 is inside the gate); StrongSORT's global assignment gives it to B."""
    tracker = DeepSort(DeepSortConfig(n_init=1, max_cosine_distance=0.5, matching=matching))
    fa, fb = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    box = _box(100)
    tracker.update(np.array([box, box]), features=np.stack([fa, fb]))
    tracker.update(np.array([box]), features=fa[None, :])  # B missed
    out = tracker.update(np.array([box]), features=(0.6 * fa + 0.8 * fb)[None, :])
    assert out.ids.tolist() == [winner]


def test_strongsort_preset_changes_only_the_matching_keys():
    from dataclasses import asdict

    from reid_from_video.core.config import PRESETS_DIR, load_config

    strong = asdict(load_config(DeepSortConfig, PRESETS_DIR / "trackers" / "strongsort.yaml"))
    paper = asdict(DeepSortConfig())
    changed = {k: v for k, v in strong.items() if paper[k] != v}
    expected = {"matching": "global", "appearance_memory": "ema", "nsa_kalman": True, "lambda_motion": 0.02}
    assert changed == expected


@pytest.mark.parametrize(
    "bad", [{"ema_alpha": 1.0}, {"ema_alpha": -0.1}, {"lambda_motion": 1.5}, {"lambda_motion": -0.1}]
)
def test_bad_matching_settings_are_refused(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        DeepSortConfig(**bad)
