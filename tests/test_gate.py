"""The appearance gate calibrated without labels (embed/gate.py): which crops are people seen together, the
quantile of their distances against a plain pair-by-pair computation, the card field, and the tracker's
choice between the card's gate and tracker.max_cosine_distance."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from reid_from_video.core.config import load_config
from reid_from_video.core.errors import InputError
from reid_from_video.embed.card import ModelCard
from reid_from_video.embed.gate import calibrate_gate, co_visible_frames
from reid_from_video.tracking.camera import tracker_settings
from reid_from_video.tracking.config import TrackConfig


def _rows(seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    camera = rng.integers(0, 2, n)
    frame = rng.integers(0, 40, n)
    track = rng.integers(0, 12, n)
    return camera, frame, track


def test_co_visible_frames_are_per_camera_with_one_row_per_track():
    camera = np.array([0, 0, 0, 1, 0, 0, 1])
    frame = np.array([5, 5, 5, 5, 6, 7, 7])
    track = np.array([1, 2, 1, 3, 1, 4, 5])
    groups = co_visible_frames(camera, frame, track, max_frames=0)
    # Frame 5 of camera 0 holds tracks 1 and 2 (track 1's second row dropped); camera 1's frame 5 and the
    # frames 6 and 7 hold one person each per camera.
    assert [sorted(g.tolist()) for g in groups] == [[0, 1]]


def test_max_frames_spreads_the_chosen_frames_evenly():
    frame = np.repeat(np.arange(10), 2)
    groups = co_visible_frames(np.zeros(20, int), frame, np.tile([0, 1], 10), max_frames=4)
    assert [int(frame[g[0]]) for g in groups] == [0, 3, 6, 9]


def test_the_gate_is_the_quantile_of_the_co_visible_distances_by_hand():
    camera, frame, track = _rows()
    features = np.random.default_rng(1).normal(size=(len(camera), 16))
    gate = calibrate_gate(
        lambda rows: features[rows], camera, frame, track, quantile=0.05, max_frames=10_000, min_pairs=1
    )
    # Every pair of rows of one camera and frame and of two tracks, each track's first row in the frame.
    first: dict[tuple[int, int, int], int] = {}
    for i in range(len(camera)):
        first.setdefault((camera[i], frame[i], track[i]), i)
    distances = []
    for i, j in itertools.combinations(sorted(first.values()), 2):
        if camera[i] == camera[j] and frame[i] == frame[j] and track[i] != track[j]:
            a, b = features[i], features[j]
            distances.append(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    assert gate is not None and gate.pairs == len(distances) > 100
    assert gate.max_cosine_distance == pytest.approx(np.quantile(distances, 0.05), abs=1e-4)
    assert gate.quantile == 0.05 and gate.frames == len(co_visible_frames(camera, frame, track, 0))


def test_too_few_people_seen_together_give_no_gate():
    camera, frame, track = _rows(n=30)
    pairs = sum(len(g) * (len(g) - 1) // 2 for g in co_visible_frames(camera, frame, track, 0))

    def embed(rows):
        raise AssertionError("nothing is embedded when there are too few pairs")

    assert calibrate_gate(embed, camera, frame, track, 0.01, 400, min_pairs=pairs + 1) is None


def test_the_card_keeps_the_gate_and_refuses_one_that_is_not_a_distance(tmp_path):
    path = ModelCard(appearance_gate=0.59).write(tmp_path / "model.onnx.json")
    assert ModelCard.read(path).appearance_gate == 0.59
    assert "appearance_gate" not in ModelCard().to_dict()  # a card without a gate says nothing
    path.write_text('{"appearance_gate": 3.5}')
    with pytest.raises(InputError, match="appearance_gate must be a cosine distance"):
        ModelCard.read(path)


@pytest.mark.parametrize(
    ("gate", "calibrated", "expected"),
    [
        (0.59, True, (0.59, "model card")),
        (0.59, False, (0.3, "tracker.max_cosine_distance")),
        (None, True, (0.3, "tracker.max_cosine_distance")),
    ],
)
def test_the_tracker_takes_the_cards_gate_unless_told_not_to(gate, calibrated, expected):
    config = load_config(
        TrackConfig, None, ["tracker.max_cosine_distance=0.3", f"embedder.calibrated_gate={calibrated}"]
    )
    settings, source = tracker_settings(config, SimpleNamespace(appearance_gate=gate))
    assert (settings.max_cosine_distance, source) == expected
    assert tracker_settings(config, None) == (config.tracker, None)  # motion only: no gate
