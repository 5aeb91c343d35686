"""Identity across cameras (noise/cross_camera.py): multi-camera IDF1 / IDP / IDR against a plain computation
that tries every assignment, against the single-camera IDF1 on one real sequence, hand-made networks whose
rFM / rSW and IDF1 are derived by hand, and ``rfv mot-eval cross_camera=...`` end to end."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from conftest import need

from reid_from_video.cli import main
from reid_from_video.io.mot import MOT_COLUMNS, read_mot, write_mot
from reid_from_video.noise.cross_camera import cross_camera_scores
from reid_from_video.noise.preprocess import scored_boxes


def table(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame([(*row, 1.0, 1, 1.0) for row in rows], columns=list(MOT_COLUMNS))
    return frame.astype({"frame": np.int64, "id": np.int64, "cls": np.int64})


def box(x: float) -> tuple[float, float, float, float]:
    return (x, 50.0, 40.0, 100.0)


def plain_iou(a: tuple, b: tuple) -> float:
    w = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def plain_idtp(cameras: dict[str, tuple[pd.DataFrame, pd.DataFrame]]) -> int:
    """Every one-to-one assignment of result ids to gt ids tried; the best total of overlapping detections."""
    overlap: dict[tuple[int, int], int] = {}
    for gt, result in cameras.values():
        for g in gt.itertuples():
            for r in result.itertuples():
                if g.frame == r.frame and plain_iou((g.x, g.y, g.w, g.h), (r.x, r.y, r.w, r.h)) >= 0.5:
                    overlap[(g.id, r.id)] = overlap.get((g.id, r.id), 0) + 1
    gts = sorted({g for gt, _ in cameras.values() for g in gt["id"]})
    results = sorted({r for _, result in cameras.values() for r in result["id"]})
    slots = results + [None] * len(gts)  # a gt id may stay unassigned
    best = 0
    for chosen in itertools.permutations(slots, len(gts)):
        best = max(best, sum(overlap.get((g, r), 0) for g, r in zip(gts, chosen, strict=True)))
    return best


def random_network(seed: int) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """3 cameras, 4 people walking at random across them, a result whose ids are sometimes wrong."""
    rng = np.random.default_rng(seed)
    cameras = {}
    for camera in ("a", "b", "c"):
        gt_rows, result_rows = [], []
        for frame in range(1, 13):
            for person in rng.choice(4, size=rng.integers(1, 4), replace=False):
                position = 200.0 * person + 3.0 * frame
                gt_rows.append((frame, int(person) + 1, *box(position)))
                if rng.random() < 0.85:
                    guess = int(person) + 1 if rng.random() < 0.7 else int(rng.integers(1, 6))
                    jitter = rng.uniform(-12, 12)
                    result_rows.append((frame, 10 + guess, *box(position + jitter)))
        result = table(result_rows).drop_duplicates(["frame", "id"])  # one box per id and frame
        cameras[camera] = (table(gt_rows), result)
    return cameras


def plain_right_journeys(cameras) -> int:
    """Journeys by hand: per identity, the time-ordered cameras and, per camera, the person it overlaps in
    the most frames (ties: the lower id)."""
    seen: dict[int, list[tuple[int, str, int | None]]] = {}
    truth: dict[int, list[tuple[int, str]]] = {}
    for name, (gt, result) in cameras.items():
        for person, rows in gt.groupby("id"):
            truth.setdefault(person, []).append((rows.frame.min(), name))
        for identity, rows in result.groupby("id"):
            votes: dict[int, int] = {}
            for _, r in rows.iterrows():
                same = gt[gt.frame == r.frame]
                for _, g in same.iterrows():
                    if plain_iou((r.x, r.y, r.w, r.h), (g.x, g.y, g.w, g.h)) >= 0.5:
                        votes[g.id] = votes.get(g.id, 0) + 1
            best = min(votes, key=lambda p: (-votes[p], p)) if votes else None
            seen.setdefault(identity, []).append((rows.frame.min(), name, best))

    def order(visits):
        names = [v[1] for v in sorted(visits)]
        return [n for k, n in enumerate(names) if k == 0 or names[k - 1] != n]

    right = 0
    for visits in seen.values():
        people = {v[2] for v in visits}
        if len(people) == 1 and None not in people:
            right += order(visits) == order(truth[people.pop()])
    return right


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_right_journeys_equal_a_plain_count(seed):
    cameras = random_network(seed)
    scores = cross_camera_scores(cameras, "global")
    assert scores.journeys_right == plain_right_journeys(cameras)
    assert scores.journeys == len({i for _, r in cameras.values() for i in r["id"]})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multi_camera_identity_metrics_equal_a_plain_search_over_assignments(seed):
    cameras = random_network(seed)
    scores = cross_camera_scores(cameras, "global")
    idtp = plain_idtp(cameras)
    gt_dets = sum(len(gt) for gt, _ in cameras.values())
    result_dets = sum(len(result) for _, result in cameras.values())
    assert (scores.idtp, scores.idfn, scores.idfp) == (idtp, gt_dets - idtp, result_dets - idtp)
    assert scores.idf1 == pytest.approx(2 * idtp / (gt_dets + result_dets))
    assert 0 < scores.idtp < gt_dets


def test_one_person_through_two_cameras_by_hand():
    """Person 1 in camera a (frames 1-10), then camera b (frames 21-30); person 2 only in b (21-30)."""
    walk_a = [(f, 1, *box(10.0 * f)) for f in range(1, 11)]
    walk_b = [(f, 1, *box(10.0 * f)) for f in range(21, 31)]
    other_b = [(f, 2, *box(600.0)) for f in range(21, 31)]
    gt_a, gt_b = table(walk_a), table(walk_b + other_b)
    # One identity for person 1 in both cameras, another for person 2: perfect.
    same = {
        "a": (gt_a, table(walk_a)),
        "b": (gt_b, table(walk_b + [(f, 2, *box(600.0)) for f in range(21, 31)])),
    }
    perfect = cross_camera_scores(same, "global")
    assert (perfect.idf1, perfect.rfm, perfect.rsw) == (1.0, 1.0, 1.0)
    assert (perfect.journeys, perfect.journeys_right) == (2, 2)  # a -> b, and b
    # The same tracks scored per camera: person 1 is two identities; IDTP 20 of 30.
    split = cross_camera_scores(same, "per_camera")
    assert (split.idtp, split.idfn, split.idfp) == (20, 10, 10)
    assert split.idf1 == pytest.approx(2 / 3)
    assert split.identities == 3 and split.rfm == 1.5 and split.rsw == 1.0  # person 1: 2 ids, person 2: 1
    assert (split.journeys, split.journeys_right) == (3, 1)  # only person 2's (b) is whole
    # One identity for person 1 in a and person 2 in b: a switch across cameras (rSW 2 for it).
    swapped = {"a": (gt_a, table([(f, 7, *box(10.0 * f)) for f in range(1, 11)])),
               "b": (gt_b, table([(f, 7, *box(600.0)) for f in range(21, 31)]))}  # fmt: skip
    mixed = cross_camera_scores(swapped, "global")
    assert mixed.rsw == 2.0 and mixed.rfm == 1.0 and mixed.idtp == 10
    assert (mixed.journeys, mixed.journeys_right) == (1, 0)  # a -> b as person 1, but person 2 in b
    # Person 1 tracked in a only (lost in b): its journey, a, misses camera b.
    lost = {"a": (gt_a, table(walk_a)), "b": (gt_b, table(other_b))}
    assert cross_camera_scores(lost, "global").journeys_right == 1  # person 2's


def test_one_camera_with_global_ids_is_the_single_camera_idf1(shared_data, tmp_path):
    seq = "MOT17-09-FRCNN"
    need(shared_data, f"mot17/train/{seq}/gt/gt.txt")
    results = shared_data / "mot17" / "trackers" / "deepsort"
    scored = scored_boxes(
        read_mot(shared_data / "mot17" / "train" / seq / "gt" / "gt.txt"), read_mot(results / f"{seq}.txt")
    )
    scores = cross_camera_scores({seq: (scored.gt, scored.result)}, "global")
    out = tmp_path / "eval"
    args = ["mot-eval", str(shared_data / "mot17" / "train"), str(results), "--out", str(out)]
    assert main([*args, f"seqs=[{seq}]", "hota=false", "plots=false", "cross_camera=global"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert scores.idf1 == pytest.approx(summary["sequences"][seq]["clear"]["idf1"], abs=1e-12)
    assert summary["COMBINED"]["cross_camera"]["idf1"] == pytest.approx(scores.idf1, abs=1e-12)
    noise = summary["sequences"][seq]["noise"]
    assert (scores.rfm, scores.rsw) == pytest.approx((noise["rfm"], noise["rsw"]))


def test_mot_eval_scores_a_camera_network_and_refuses_an_unknown_mode(tmp_path, capsys):
    network = random_network(0)
    for camera, (gt, result) in network.items():
        write_mot(tmp_path / "gt" / camera / "gt" / "gt.txt", gt, kind="gt")
        write_mot(tmp_path / "res" / f"{camera}.txt", result)
    args = [
        "mot-eval",
        str(tmp_path / "gt"),
        str(tmp_path / "res"),
        "--out",
        str(tmp_path / "eval"),
        "plots=false",
    ]
    assert main([*args, "cross_camera=global", "preprocess=false"]) == 0
    written = json.loads((tmp_path / "eval" / "summary.json").read_text())["COMBINED"]["cross_camera"]
    assert written["idtp"] == plain_idtp(network) and written["persons"] == 4
    assert "across cameras (4 persons" in capsys.readouterr().out
    assert main([*args, "cross_camera=sometimes"]) == 2
    assert "cross_camera" in capsys.readouterr().err
