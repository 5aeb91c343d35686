"""SSTT sampling (TAUDL 3.1) on hand-built index tables, the duplication rates, and gt ids for a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reid_from_video.core.errors import InputError
from reid_from_video.io.store import check_labels
from reid_from_video.io.tracklets import tracklet_identity
from reid_from_video.labels.config import SsttConfig
from reid_from_video.labels.ground_truth import attach_gt_ids
from reid_from_video.labels.sstt import (
    LABEL_COLUMNS,
    camera_label_blocks,
    duplication_rate,
    duplication_sweep,
    label_every_tracklet,
    sample_tracklets,
)

FPS = 10


def rows(
    camera: str,
    track: int,
    t0: float,
    t1: float,
    x: float = 0.0,
    y: float = 0.0,
    h: float = 100.0,
    gt_id: int | None = None,
    skip: tuple[float, float] | None = None,
) -> list[dict]:
    """One index row per frame (10 fps) from t0 to t1 s inclusive, box at (x, y), 40 x h; ``skip`` is a
    (start, end) time range with no rows (a detection gap)."""
    out = []
    for frame in range(round(t0 * FPS) + 1, round(t1 * FPS) + 2):
        time_s = (frame - 1) / FPS
        if skip is not None and skip[0] <= time_s <= skip[1]:
            continue
        out.append(
            {"camera": camera, "track": track, "frame": frame, "time_s": time_s, "x": x, "y": y, "w": 40.0,
             "h": h, "score": 1.0, "path": "", "gt_id": gt_id}
        )  # fmt: skip
    return out


def index_of(*parts: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame([row for part in parts for row in part])
    return table.astype({"gt_id": "Int64"})


def labelled(labels: pd.DataFrame) -> list[tuple[str, int, float]]:
    return [(c, int(t), round(float(s), 6)) for c, t, s in labels[["camera", "track", "instant_s"]].values]


def test_instants_every_period_from_the_cameras_first_time() -> None:
    index = index_of(
        rows("a", 1, 0.0, 1.0, x=0),
        rows("a", 2, 3.5, 4.5, x=300),
        rows("a", 3, 5.0, 7.0, x=600),  # no instant of P = 4 inside
        rows("a", 4, 7.9, 10.0, x=900),
    )
    labels = sample_tracklets(index, SsttConfig(period_s=4.0))
    assert list(labels.columns) == list(LABEL_COLUMNS)
    assert labelled(labels) == [("a", 1, 0.0), ("a", 2, 4.0), ("a", 4, 8.0)]
    assert labels["label"].tolist() == [0, 1, 2]
    shifted = sample_tracklets(index, SsttConfig(period_s=4.0, start_s=1.0))  # instants 1, 5, 9
    assert labelled(shifted) == [("a", 1, 1.0), ("a", 3, 5.0), ("a", 4, 9.0)]
    check_labels(labels, Path("labels.csv"))  # the store accepts the table as it is


def test_a_tracklet_in_a_detection_gap_blocks_its_neighbour_but_is_not_labelled_there() -> None:
    index = index_of(
        rows("a", 1, 0.0, 10.0, x=0, skip=(3.5, 4.5)),  # spans 4 s, no box within half a frame of it
        rows("a", 2, 3.0, 5.0, x=30),  # close to 1 at 4 s
        rows("a", 3, 0.0, 10.0, x=900),
    )
    config = SsttConfig(period_s=4.0, start_s=4.0)  # instants 4 and 8
    assert labelled(sample_tracklets(index, config)) == [("a", 3, 4.0), ("a", 1, 8.0)]
    # A tolerance wider than the gap: track 1's nearest box (3.4 s) counts, and it is still next to track 2.
    wide = SsttConfig(period_s=4.0, start_s=4.0, tolerance_s=1.0)
    assert labelled(sample_tracklets(index, wide)) == [("a", 3, 4.0), ("a", 1, 8.0)]
    apart = SsttConfig(period_s=4.0, start_s=4.0, tolerance_s=1.0, min_distance=0.0)
    assert labelled(sample_tracklets(index, apart)) == [("a", 1, 4.0), ("a", 2, 4.0), ("a", 3, 4.0)]


def test_spatial_rule_drops_close_tracklets_and_keeps_far_ones() -> None:
    index = index_of(
        rows("a", 1, 0.0, 3.0, x=0),
        rows("a", 2, 0.0, 2.0, x=50),  # centres 50 px apart, boxes 100 px high: 0.5 heights
        rows("a", 3, 0.0, 3.0, x=500),
        rows("a", 4, 0.0, 3.0, x=500, y=100, h=200),  # centre 150 px below 3, mean height 150: 1.0
    )
    drop_all = sample_tracklets(index, SsttConfig(period_s=10.0))
    assert labelled(drop_all) == [("a", 3, 0.0), ("a", 4, 0.0)]
    longest = sample_tracklets(index, SsttConfig(period_s=10.0, conflict="keep_longest"))
    assert labelled(longest) == [("a", 1, 0.0), ("a", 3, 0.0), ("a", 4, 0.0)]
    stricter = sample_tracklets(index, SsttConfig(period_s=10.0, min_distance=1.01))
    assert labelled(stricter) == []
    off = sample_tracklets(index, SsttConfig(period_s=10.0, min_distance=0.0))
    assert [t for _, t, _ in labelled(off)] == [1, 2, 3, 4]


def test_min_frames_excludes_short_tracklets_which_then_block_nothing() -> None:
    index = index_of(rows("a", 1, 0.0, 5.0, x=0), rows("a", 2, 0.0, 0.3, x=10))  # track 2: 4 rows
    assert labelled(sample_tracklets(index, SsttConfig(period_s=10.0, min_frames=5))) == [("a", 1, 0.0)]
    assert labelled(sample_tracklets(index, SsttConfig(period_s=10.0, min_frames=4))) == []  # both close
    assert labelled(sample_tracklets(index, SsttConfig(period_s=10.0, min_frames=4, min_distance=0))) == [
        ("a", 1, 0.0),
        ("a", 2, 0.0),
    ]


def test_a_tracklet_is_labelled_once_at_the_first_instant_that_selects_it() -> None:
    index = index_of(
        rows("a", 1, 0.0, 12.0, x=0),  # present at 0, 4, 8, 12
        rows("a", 2, 0.0, 2.0, x=20),  # next to 1 at 0 s only
    )
    labels = sample_tracklets(index, SsttConfig(period_s=4.0))
    assert labelled(labels) == [("a", 1, 4.0)]


def test_labels_are_contiguous_per_camera_and_do_not_depend_on_row_order() -> None:
    index = index_of(
        rows("b", 7, 0.0, 9.0, x=0),
        rows("b", 3, 5.0, 9.0, x=500),
        rows("a", 9, 0.0, 2.0, x=0),
        rows("a", 2, 0.0, 2.0, x=500),
        rows("a", 1, 4.0, 6.0, x=0),
    )
    config = SsttConfig(period_s=5.0)
    labels = sample_tracklets(index, config)
    # Camera a (name order) first; inside a camera by instant, then track.
    assert labelled(labels) == [("a", 2, 0.0), ("a", 9, 0.0), ("a", 1, 5.0), ("b", 7, 0.0), ("b", 3, 5.0)]
    assert labels["label"].tolist() == [0, 1, 2, 3, 4]
    assert labels["label"].dtype == np.int64 and labels["track"].dtype == np.int64
    assert camera_label_blocks(labels) == {"a": (0, 3), "b": (3, 5)}
    shuffled = index.sample(frac=1.0, random_state=0).reset_index(drop=True)
    pd.testing.assert_frame_equal(sample_tracklets(shuffled, config), labels)


def test_label_every_tracklet_is_the_unsampled_baseline() -> None:
    index = index_of(rows("b", 1, 2.0, 3.0), rows("a", 5, 1.0, 2.0), rows("a", 4, 3.0, 3.2))
    labels = label_every_tracklet(index)
    assert labelled(labels) == [("a", 5, 1.0), ("a", 4, 3.0), ("b", 1, 2.0)]
    assert labels["label"].tolist() == [0, 1, 2]
    assert labelled(label_every_tracklet(index, min_frames=5)) == [("a", 5, 1.0), ("b", 1, 2.0)]


def test_duplication_rate_both_definitions_per_camera() -> None:
    labels = pd.DataFrame(
        {"camera": ["a"] * 5 + ["b"] * 4, "track": [1, 2, 3, 4, 5, 1, 2, 3, 4], "label": range(9)}
    )
    ids = {("a", 1): 7, ("a", 2): 7, ("a", 3): 8, ("a", 4): 9}  # a/5: no identity
    ids |= {("b", 1): 7, ("b", 2): 7, ("b", 3): 7, ("b", 4): 8}
    series = pd.Series(ids).rename_axis(["camera", "track"])
    for identity in (ids, series):
        rate = duplication_rate(labels, identity)
        # a: id 7 holds two of the four known labels (a/5 has no identity); b: id 7 holds three of four.
        assert rate["per_camera"]["a"] == {
            "labels": 5, "labels_known": 4, "labels_unknown": 1, "duplicated_labels": 2, "rate": 0.5,
            "identities": 3, "duplicated_identities": 1, "identity_rate": pytest.approx(1 / 3),
        }  # fmt: skip
        assert rate["per_camera"]["b"]["rate"] == 0.75 and rate["per_camera"]["b"]["identity_rate"] == 0.5
        # Id 7 in a and in b are two (camera, id) pairs: 5 of 8 labels, 2 of 5 identities.
        assert (rate["labels"], rate["labels_known"], rate["duplicated_labels"]) == (9, 8, 5)
        assert rate["rate"] == 0.625 and rate["identity_rate"] == 0.4
        assert (rate["identities"], rate["duplicated_identities"]) == (5, 2)


def test_duplication_rate_counts_a_label_once_when_it_covers_several_tracklets() -> None:
    labels = pd.DataFrame({"camera": ["a", "a", "a"], "track": [1, 2, 3], "label": [0, 0, 1]})
    rate = duplication_rate(labels, {("a", 1): 4, ("a", 2): 4, ("a", 3): 5})
    assert (rate["labels"], rate["duplicated_labels"], rate["rate"]) == (2, 0, 0.0)
    unknown = duplication_rate(labels, {})
    assert unknown["labels_unknown"] == 2 and np.isnan(unknown["rate"]) and np.isnan(unknown["identity_rate"])


def test_sweep_duplication_falls_as_the_period_outgrows_the_stay() -> None:
    # Person 7 stays 20 s, cut into three tracklets; person 8 comes after, elsewhere.
    index = index_of(
        rows("a", 1, 0.0, 6.0, gt_id=7),
        rows("a", 2, 6.1, 13.0, gt_id=7),
        rows("a", 3, 13.1, 20.0, gt_id=7),
        rows("a", 4, 20.1, 25.0, x=500, gt_id=8),
    )
    sweep = duplication_sweep(index, SsttConfig(), [2.0, 5.0, 12.0, 25.0])
    # P = 2: labels at 0, 8, 14, 22; P = 5: 0, 10, 15, 25; P = 12: 0, 12, 24; P = 25: 0, 25.
    assert sweep["labels"].tolist() == [4, 4, 3, 2]
    assert sweep["duplicated_labels"].tolist() == [3, 3, 2, 0]
    assert sweep["rate"].tolist() == pytest.approx([0.75, 0.75, 2 / 3, 0.0])
    assert sweep["identity_rate"].tolist() == pytest.approx([0.5, 0.5, 0.5, 0.0])
    assert sweep["period_s"].tolist() == [2.0, 5.0, 12.0, 25.0]


def test_tracklet_identity_majority_with_ties_to_the_smaller_id() -> None:
    index = index_of(rows("a", 1, 0.0, 0.2, gt_id=5), rows("a", 1, 0.3, 0.4, gt_id=3))  # 3 x 5, 2 x 3
    index = pd.concat([index, index_of(rows("a", 2, 0, 0.1, gt_id=9), rows("a", 2, 0.2, 0.3, gt_id=4))])
    index = pd.concat([index, index_of(rows("a", 2, 0.4, 0.9)), index_of(rows("b", 1, 0, 1))])  # no gt
    identity = tracklet_identity(index)
    assert identity.to_dict() == {("a", 1): 5, ("a", 2): 4}
    assert identity.dtype == np.int64 and identity.name == "gt_id"
    assert tracklet_identity(index_of(rows("b", 1, 0, 1))).empty


def write_gt(folder: Path, lines: list[str]) -> None:
    (folder / "gt").mkdir(parents=True)
    (folder / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")


def test_attach_gt_ids_matches_boxes_one_to_one_per_frame(tmp_path: Path) -> None:
    write_gt(
        tmp_path / "gt" / "cam1",
        [
            "1,5,0,0,40,100,1,1,1",
            "1,6,200,0,40,100,1,1,1",
            "1,7,400,0,40,100,1,3,1",  # class 3 (a car): not a pedestrian
            "1,8,600,0,40,100,0,1,1",  # consider flag unset
            "2,5,10,0,40,100,1,1,1",
            "4,5,0,0,40,100,1,1,1",
        ],
    )
    box = {"score": 1.0, "path": "", "w": 40.0, "h": 100.0, "gt_id": 99}
    index = pd.DataFrame(
        [
            {"camera": "cam1", "track": 1, "frame": 4, "time_s": 0.3, "x": 0.0, "y": 0.0, **box},
            {"camera": "cam1", "track": 4, "frame": 4, "time_s": 0.3, "x": 5.0, "y": 0.0, **box},
            {"camera": "cam1", "track": 1, "frame": 2, "time_s": 0.1, "x": 40.0, "y": 0.0, **box},  # IoU 1/7
            {"camera": "cam1", "track": 1, "frame": 1, "time_s": 0.0, "x": 0.0, "y": 0.0, **box},
            {"camera": "cam1", "track": 2, "frame": 1, "time_s": 0.0, "x": 205.0, "y": 0.0, **box},  # IoU 7/9
            {"camera": "cam1", "track": 3, "frame": 1, "time_s": 0.0, "x": 400.0, "y": 0.0, **box},
            {"camera": "cam1", "track": 3, "frame": 1, "time_s": 0.0, "x": 600.0, "y": 0.0, **box},
            {"camera": "cam1", "track": 2, "frame": 3, "time_s": 0.2, "x": 0.0, "y": 0.0, **box},  # no gt
        ]
    ).astype({"gt_id": "Int64"})
    out = attach_gt_ids(index, tmp_path / "gt")
    assert out["gt_id"].tolist() == [5, pd.NA, pd.NA, 5, 6, pd.NA, pd.NA, pd.NA]
    assert str(out["gt_id"].dtype) == "Int64"
    assert index["gt_id"].tolist() == [99] * 8  # the input is left alone
    pd.testing.assert_frame_equal(out.drop(columns="gt_id"), index.drop(columns="gt_id"))
    # A lower threshold lets the shifted box of frame 2 match.
    assert attach_gt_ids(index, tmp_path / "gt", iou=0.1)["gt_id"].tolist()[2] == 5


def test_attach_gt_ids_names_the_gt_folder_and_the_missing_camera(tmp_path: Path) -> None:
    write_gt(tmp_path / "gt" / "cam1", ["1,5,0,0,40,100,1,1,1"])
    index = index_of(rows("cam1", 1, 0, 0), rows("cam2", 1, 0, 0))
    with pytest.raises(InputError, match=r"gt.*cam2") as error:
        attach_gt_ids(index, tmp_path / "gt")
    assert error.value.path == tmp_path / "gt" and "cam1" in str(error.value)
    with pytest.raises(InputError, match="no MOTChallenge sequence"):
        attach_gt_ids(index, tmp_path)  # tmp_path/gt is not itself a sequence


def test_config_validation() -> None:
    for bad in (
        {"period_s": 0.0},
        {"start_s": -1.0},
        {"min_frames": 0},
        {"min_distance": -0.5},
        {"conflict": "random"},
        {"tolerance_s": -0.1},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SsttConfig(**bad)
