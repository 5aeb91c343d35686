"""``rfv associate`` (associate/): which tracklets are known to be different people, average linkage that
never joins them and does not chain, identities recovered from oracle features on a tracked synthetic
world, the outputs (MOT files with global ids, journeys, the page) end to end, and the clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reid_from_video.associate.linking import Spans, known_different, least_transit, link, link_threshold
from reid_from_video.associate.result import Transit
from reid_from_video.associate.run import tracklet_table
from reid_from_video.associate.transit import learnt_transit, read_topology
from reid_from_video.cli import main
from reid_from_video.core.errors import InputError
from reid_from_video.io.mot import read_mot
from reid_from_video.io.store import TrackletStore

HALF_SIZE = ["detector.bg_min_area=40", "detector.bg_join_height=8", "detector.min_height=10"]  # 320 x 180


def spans(*rows: tuple[int, int, int]) -> Spans:
    camera, first, last = (np.array(column) for column in zip(*rows, strict=True))
    return Spans(camera, first, last)


def unit(*vectors: list[float]) -> np.ndarray:
    rows = np.array(vectors, dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_known_different_pairs_are_same_camera_tracklets_that_overlap_in_time():
    s = spans((0, 1, 10), (0, 5, 20), (0, 21, 30), (1, 1, 30), (0, 10, 10))
    i, j = known_different(s)
    # 0-1 and 0-4 (frame 10 shared) and 1-4 overlap; 2 starts after 1 ends; camera 1 is alone.
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (0, 4), (1, 4)]


def test_tracklets_seen_together_in_one_camera_are_never_one_identity():
    same = unit([1, 0], [1, 0], [1, 0])
    # 0 and 1 overlap in camera 0; 2 is camera 1 at the same time (cameras may overlap in view).
    identity = link(same, spans((0, 1, 10), (0, 5, 15), (1, 1, 10)), threshold=0.5, neighbours=5)
    assert identity[0] != identity[1] and identity[2] in (identity[0], identity[1])


def test_average_linkage_does_not_chain_through_one_ambiguous_tracklet():
    # a - b and b - c are close (cos distance 0.13), a - c far (0.5): single linkage would join all three.
    angle = np.radians([0.0, 30.0, 60.0])
    features = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    disjoint = spans((0, 1, 5), (1, 1, 5), (2, 1, 5))
    identity = link(features, disjoint, threshold=0.2, neighbours=2)
    assert len(set(identity.tolist())) == 2 and identity[0] == identity[1] != identity[2]
    assert identity.tolist() == [0, 0, 1]  # numbered in tracklet order


def test_the_threshold_is_the_quantile_of_known_different_distances():
    features = unit([1, 0], [0, 1], [1, 1], [1, 0])
    s = spans((0, 1, 10), (0, 1, 10), (0, 1, 10), (1, 1, 10))
    value, pairs = link_threshold(features, s, 0.5)
    by_hand = [1 - features[a] @ features[b] for a, b in [(0, 1), (0, 2), (1, 2)]]
    assert pairs == 3 and value == pytest.approx(np.quantile(by_hand, 0.5))
    assert link_threshold(features, spans((0, 1, 2), (0, 3, 4), (1, 1, 9), (2, 1, 9)), 0.5) is None


def test_least_transit_is_the_shortest_walk_and_inf_where_none_leads():
    least = least_transit(4, [(0, 1, 10.0), (1, 2, 5.0), (0, 2, 30.0)])
    assert least[0, 2] == least[2, 0] == 15.0  # via camera 1, not the 30 s walkway
    assert least[0, 0] == 0 and np.isinf(least[0, 3]) and np.isinf(least[3, 1])


def test_transit_times_keep_apart_what_no_one_could_walk_in_time():
    same = unit([1, 0], [1, 0], [1, 0])
    # Camera 0 until 10 s; camera 1 from 14 s (4 s later) and camera 2 from 40 s (30 s later).
    timed = Spans(np.array([0, 1, 2]), np.array([1, 140, 400]), np.array([100, 200, 500]),
                  np.array([0.1, 14.0, 40.0]), np.array([10.0, 20.0, 50.0]))  # fmt: skip
    free = link(same, timed, threshold=0.5, neighbours=5)
    assert len(set(free.tolist())) == 1
    transit = least_transit(3, [(0, 1, 8.0), (1, 2, 8.0)])  # 0 -> 1 takes 8 s: 4 s is too quick
    walked = link(same, timed, threshold=0.5, neighbours=5, transit=transit)
    assert walked[0] != walked[1] and walked[2] in (walked[0], walked[1])
    # Views that overlap (least time 0) may see one person at once; cameras no walkway joins never.
    together = Spans(
        np.array([0, 1]), np.array([1, 1]), np.array([9, 9]), np.array([0.0, 0.0]), np.array([1.0, 1.0])
    )
    assert len(set(link(same[:2], together, 0.5, 5, least_transit(2, [(0, 1, 0.0)])).tolist())) == 1
    assert len(set(link(same[:2], together, 0.5, 5, least_transit(2, [])).tolist())) == 2


def test_a_topology_file_is_read_and_checked(tmp_path):
    good = tmp_path / "topology.csv"
    good.write_text("camera_a,camera_b,least_seconds\ncam1,cam2,6\ncam2,cam3,4.5\n")
    least = read_topology(good, ["cam1", "cam2", "cam3"])
    assert least[0, 2] == 10.5 and least[1, 0] == 6
    good.write_text("camera_a,camera_b,least_seconds\ncam1,cam2,6\ncam2,cam3,4\n")  # whole seconds
    assert read_topology(good, ["cam1", "cam2", "cam3"])[0, 2] == 10
    bad = {
        "camera_a,camera_b\ncam1,cam2\n": "lacks columns",
        "camera_a,camera_b,least_seconds\ncam1,cam9,3\n": "'cam9' is not in the store",
        "camera_a,camera_b,least_seconds\ncam1,cam2,-1\n": "line 2: least_seconds",
        "camera_a,camera_b,least_seconds\ncam1,cam2,soon\n": "line 2: least_seconds",
        "camera_a,camera_b,least_seconds\ncam1,cam2,3\n": "\\['cam3'\\] of the store have no walkway",
    }
    for text, message in bad.items():
        good.write_text(text)
        with pytest.raises(InputError, match=message):
            read_topology(good, ["cam1", "cam2", "cam3"])


def test_learnt_transit_is_half_the_least_time_of_pairs_seen_often_enough():
    transits = (
        Transit("a", "b", 2, 9.0, 6.0, 12.0),
        Transit("b", "a", 1, 8.0, 8.0, 8.0),  # with a -> b: 3 identities, least 6 s
        Transit("b", "c", 2, 5.0, 4.0, 6.0),  # 2 identities: too few, no constraint
    )
    least = learnt_transit(transits, ["a", "b", "c"])
    assert least[0, 1] == least[1, 0] == 3.0
    assert least[1, 2] == 0 and least[0, 2] == 0  # unseen pairs are unknown, not far


@pytest.fixture(scope="module")
def tracked(small_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2-camera world tracked (background subtraction, colour histograms), with gt ids in its index."""
    out = tmp_path_factory.mktemp("tracked") / "store"
    args = ["track", str(small_world / "videos"), "--out", str(out), "-c", "synth", "progress=false"]
    assert main([*args, *HALF_SIZE, "save_crops=true"]) == 0
    return out


def test_oracle_features_recover_the_people_a_tracker_kept_apart(tracked, small_world):
    """Each tracklet embedded as its majority gt person: the identities are the people, except where two of
    one person's tracklets overlap in one camera (then they must stay apart)."""
    from reid_from_video.labels.ground_truth import attach_gt_ids

    index = attach_gt_ids(TrackletStore(tracked).read_index().reset_index(drop=True), small_world / "gt")
    table = tracklet_table(index)
    person = np.array([index.loc[rows, "gt_id"].mode().iloc[0] for rows in table["rows"]], dtype=np.int64)
    features = np.eye(person.max() + 1)[person]
    s = Spans(
        pd.factorize(table["camera"])[0], table["first_frame"].to_numpy(), table["last_frame"].to_numpy()
    )
    identity = link(features, s, threshold=0.5, neighbours=50)
    # Never two people in one identity ...
    assert all(len(set(person[identity == k].tolist())) == 1 for k in np.unique(identity))
    # ... and all of a person's tracklets in one, unless two of them overlap in one camera.
    i, j = known_different(s)
    conflicted = set(person[i[person[i] == person[j]]].tolist())
    whole = [p for p in np.unique(person) if p not in conflicted]
    assert all(len(set(identity[person == p].tolist())) == 1 for p in whole)
    assert any(len(set(s.camera[person == p].tolist())) == 2 for p in whole)  # one walked through both


def test_rfv_associate_writes_global_ids_journeys_and_the_page(tracked, small_world, tmp_path, capsys):
    out = tmp_path / "associate"
    assert main(["associate", str(tracked), "--model", "histogram", "--out", str(out)]) == 0
    assert "identities from" in capsys.readouterr().out
    result = json.loads((out / "associate.json").read_text())
    journeys = pd.read_csv(out / "journeys.csv", dtype={"camera": str})
    index = TrackletStore(tracked).read_index()
    assert len(journeys) == result["tracklets"] == index.groupby(["camera", "track"]).ngroups
    assert journeys["identity"].nunique() == result["identities"] and 0 < result["threshold"] < 2
    for camera, rows in journeys.groupby("camera"):
        ours = read_mot(out / "mot" / f"{camera}.txt", kind="result")
        theirs = read_mot(tracked / "mot" / f"{camera}.txt", kind="result")
        assert len(ours) == len(theirs)  # every box the tracker wrote, renumbered
        mapping = dict(zip(rows["track"], rows["identity"], strict=True))
        merged = theirs.assign(expected=theirs["id"].map(mapping)).dropna(subset=["expected"])
        ours_by_box = ours.set_index(["frame", "x", "y"])["id"]
        assert (
            merged.set_index(["frame", "x", "y"])["expected"]
            == ours_by_box.loc[merged.set_index(["frame", "x", "y"]).index]
        ).all()
    page = (out / "identities.html").read_text()
    assert page.count("<img") > 10 and "identity" in page
    # The global ids are scored across cameras.
    scored = tmp_path / "eval"
    args = ["mot-eval", str(small_world / "gt"), str(out / "mot"), "--out", str(scored), "plots=false"]
    assert main([*args, "cross_camera=global", "min_visibility=0.5"]) == 0
    assert json.loads((scored / "summary.json").read_text())["COMBINED"]["cross_camera"]["persons"] == 8


def test_bad_input_is_one_clear_error(tmp_path, tracked, capsys):
    assert (
        main(["associate", str(tmp_path / "nowhere"), "--model", "histogram", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "index.csv" in capsys.readouterr().err
    missing = tmp_path / "missing.onnx"
    assert main(["associate", str(tracked), "--model", str(missing), "--out", str(tmp_path / "o2")]) == 2
    assert "missing.onnx" in capsys.readouterr().err
    assert (
        main(["associate", str(tracked), "--model", "histogram", "--out", str(tmp_path / "o3"), "quantile=2"])
        == 2
    )
    assert "quantile" in capsys.readouterr().err


def test_rfv_search_ranks_the_querys_own_tracklet_first(tracked, tmp_path, capsys):
    index = TrackletStore(tracked).read_index()
    camera, track = index.groupby(["camera", "track"]).size().idxmax()  # the longest tracklet
    crops = tracked / "crops" / camera / str(track)
    out = tmp_path / "search"
    args = ["search", str(tracked), "--query", str(crops), "--model", "histogram", "--out", str(out)]
    assert main([*args, "top=5", "frames_per_tracklet=0"]) == 0  # every crop: the query is the tracklet
    ranking = pd.read_csv(out / "ranking.csv", dtype={"camera": str})
    assert len(ranking) == 5 and ranking["rank"].tolist() == [1, 2, 3, 4, 5]
    assert (ranking.iloc[0]["camera"], ranking.iloc[0]["track"]) == (camera, track)
    assert ranking.iloc[0]["distance"] == pytest.approx(0.0, abs=1e-6)
    assert ranking["distance"].is_monotonic_increasing
    assert (out / "search.html").read_text().count("<img") >= 5
    assert "ranked for" in capsys.readouterr().out


def test_search_names_a_missing_or_unreadable_query(tracked, tmp_path, capsys):
    base = ["search", str(tracked), "--model", "histogram", "--out", str(tmp_path / "s")]
    assert main([*base, "--query", str(tmp_path / "nobody.jpg")]) == 2
    assert "nobody.jpg" in capsys.readouterr().err
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    assert main([*base, "--query", str(broken)]) == 2
    assert "broken.jpg" in capsys.readouterr().err and not (tmp_path / "s" / "ranking.csv").exists()
