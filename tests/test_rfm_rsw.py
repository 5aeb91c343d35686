"""rFM / rSW (TMC eq. 7-8): hand-made cases computed by hand, and real DeepSORT tracklets on MOT17 checked
against an independent plain-Python computation."""

from __future__ import annotations

import json
import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from conftest import need
from scipy.optimize import linear_sum_assignment

from reid_from_video.core.errors import InputError
from reid_from_video.io.mot import MOT_COLUMNS, read_mot
from reid_from_video.noise.rfm_rsw import (
    NoiseRates,
    combine,
    load_q_histogram,
    match_tracklets,
    noise_rates,
    save_q_histogram,
    sequence_noise,
    sequence_totals,
)

# ------------------------------------------------------------------------------------------ helpers


def gt_table(rows: list[tuple]) -> pd.DataFrame:
    """gt rows (frame, id, x, y, w, h[, consider, class]): pedestrians with the flag set unless given."""
    full = [(*row, *(1, 1)[len(row) - 6 :], 1.0) for row in rows]
    return pd.DataFrame(full, columns=list(MOT_COLUMNS)).astype({"frame": int, "id": int, "cls": int})


def res_table(rows: list[tuple]) -> pd.DataFrame:
    """Tracker rows (frame, id, x, y, w, h)."""
    full = [(*row, 1.0, -1, -1.0) for row in rows]
    return pd.DataFrame(full, columns=list(MOT_COLUMNS)).astype({"frame": int, "id": int, "cls": int})


def box(x: float, w: float = 10.0, h: float = 10.0) -> tuple[float, float, float, float]:
    """A box on the row y=0. Two 10x10 boxes shifted by d along x have IoU (10-d)/(10+d)."""
    return (x, 0.0, w, h)


def pair_set(pairs: pd.DataFrame) -> set[tuple[int, int, int]]:
    return set(map(tuple, pairs[["track", "gt_id", "frames"]].to_numpy().tolist()))


# ------------------------------------------------------------------------------------- hand-made cases


def test_tracklet_switching_between_two_ids():
    # gt 1 at x=0 in frames 1-2, gt 2 at x=100 in frames 1-4, gt 3 at x=200 never covered.
    gt = gt_table(
        [(f, 1, *box(0)) for f in (1, 2)] + [(f, 2, *box(100)) for f in (1, 2, 3, 4)] + [(1, 3, *box(200))]
    )
    # Track 10 follows gt 1, then switches to gt 2; track 20 follows gt 2 first; track 30 is on nothing.
    res = res_table(
        [(1, 10, *box(0)), (2, 10, *box(0)), (3, 10, *box(100)), (4, 10, *box(100))]
        + [(1, 20, *box(100)), (2, 20, *box(100))]
        + [(1, 30, *box(500))]
    )
    rates, pairs = sequence_noise(gt, res)
    assert pair_set(pairs) == {(10, 1, 2), (10, 2, 2), (20, 2, 2)}
    assert list(pairs.columns) == ["track", "gt_id", "frames"]
    # Q_10 = {1, 2}, Q_20 = {2}: rSW = (2 + 1) / 2. gt 1 in 1 tracklet, gt 2 in 2: rFM = (1 + 2) / 2.
    assert rates.rsw == pytest.approx(3 / 2) and rates.rfm == pytest.approx(3 / 2)
    assert (rates.tracklets, rates.tracklets_matched, rates.gt_ids, rates.gt_ids_matched) == (3, 2, 3, 2)
    assert rates.unmatched_gt_share == pytest.approx(1 / 3)
    assert rates.q_histogram == {1: 1, 2: 1}
    assert rates.fm_histogram == {1: 1, 2: 1}


def test_id_fragmented_over_three_tracklets():
    gt = gt_table([(f, 7, *box(0)) for f in range(1, 7)] + [(f, 8, *box(50)) for f in range(1, 7)])
    res = res_table(
        [(f, 1 + (f - 1) // 2, *box(0.5)) for f in range(1, 7)]  # tracks 1, 2, 3: two frames each on gt 7
        + [(f, 9, *box(50)) for f in range(1, 7)]  # gt 8 tracked cleanly
    )
    rates, pairs = sequence_noise(gt, res)
    assert pair_set(pairs) == {(1, 7, 2), (2, 7, 2), (3, 7, 2), (9, 8, 6)}
    # Every tracklet holds one id: rSW = 1. gt 7 is in 3 tracklets, gt 8 in 1: rFM = (3 + 1) / 2.
    assert rates.rsw == 1.0 and rates.rfm == pytest.approx(2.0)
    assert rates.q_histogram == {1: 4} and rates.fm_histogram == {1: 1, 3: 1}
    assert rates.unmatched_gt_share == 0.0


def test_hungarian_picks_the_better_gt_for_one_box():
    # The tracker box at x=1 overlaps gt 1 (x=0, IoU 9/11) and gt 2 (x=3, IoU 8/12): both above 0.5.
    gt = gt_table([(1, 1, *box(0)), (1, 2, *box(3))])
    res = res_table([(1, 5, *box(1))])
    assert pair_set(match_tracklets(gt, res)) == {(5, 1, 1)}


def test_hungarian_maximises_the_total_not_greedily():
    # Track 1 (x=1) overlaps gt A (x=0, 9/11) better than gt B (x=2.5, 8.5/11.5); track 2 (x=-1.5) only
    # overlaps A (8.5/11.5; B is at 6/14 < 0.5). Greedy would give 1-A and leave 2 unmatched; the assignment
    # maximising total IoU is 1-B, 2-A.
    gt = gt_table([(1, 100, *box(100)), (1, 200, *box(102.5))])
    res = res_table([(1, 1, *box(101)), (1, 2, *box(98.5))])
    assert pair_set(match_tracklets(gt, res)) == {(1, 200, 1), (2, 100, 1)}


def test_iou_exactly_at_threshold_matches():
    gt = gt_table([(1, 1, *box(0)), (2, 1, *box(0)), (3, 1, *box(0))])
    res = res_table(
        [
            (1, 1, *box(0, h=20)),  # IoU 100 / 200 = 0.5 exactly: matched
            (2, 2, *box(0, h=21)),  # IoU 100 / 210 < 0.5: not matched
            (3, 3, *box(0, h=15)),  # IoU 100 / 150 = 2/3
        ]
    )
    assert pair_set(match_tracklets(gt, res)) == {(1, 1, 1), (3, 1, 1)}
    # The threshold is configurable: at 0.6 only the 2/3 box matches, at 0.7 nothing does.
    assert pair_set(match_tracklets(gt, res, iou=0.6)) == {(3, 1, 1)}
    assert match_tracklets(gt, res, iou=0.7).empty
    with pytest.raises(ValueError, match="iou"):
        match_tracklets(gt, res, iou=0.0)


def test_non_pedestrian_gt_is_ignored():
    gt = gt_table(
        [
            (1, 1, *box(0), 1, 1),  # pedestrian
            (1, 2, *box(0.5), 1, 3),  # car right under the tracker box: IoU 1, but not scored
            (1, 3, *box(100), 1, 7),  # static person (distractor)
            (1, 4, *box(200), 0, 1),  # pedestrian with the consider flag unset
        ]
    )
    res = res_table([(1, 1, *box(0.5)), (1, 2, *box(100)), (1, 3, *box(200))])
    rates, pairs = sequence_noise(gt, res)
    assert pair_set(pairs) == {(1, 1, 1)}  # the pedestrian (IoU 9.5/10.5), not the car
    assert (rates.tracklets, rates.tracklets_matched, rates.gt_ids, rates.gt_ids_matched) == (3, 1, 1, 1)
    assert sequence_totals(gt, res) == (3, 1)


def test_min_frames_drops_a_one_frame_switch():
    gt = gt_table([(f, 1, *box(0)) for f in range(1, 6)] + [(5, 2, *box(50)), (6, 3, *box(100))])
    res = res_table(
        [(f, 1, *box(0)) for f in range(1, 5)]
        + [(5, 1, *box(50))]  # track 1 jumps to gt 2 for one frame
        + [(5, 2, *box(0))]  # track 2 picks up gt 1 in frame 5
        + [(6, 3, *box(100))]  # track 3 sees gt 3 for one frame only
    )
    pairs = match_tracklets(gt, res)
    assert pair_set(pairs) == {(1, 1, 4), (1, 2, 1), (2, 1, 1), (3, 3, 1)}
    one = noise_rates(pairs, n_tracklets=3, n_gt_ids=3)
    # Q_1 = {1, 2}, Q_2 = {1}, Q_3 = {3}: rSW = 4/3; gt 1 in 2 tracklets, gt 2 and 3 in one: rFM = 4/3.
    assert one.rsw == pytest.approx(4 / 3) and one.rfm == pytest.approx(4 / 3)
    assert one.q_histogram == {1: 2, 2: 1} and one.fm_histogram == {1: 2, 2: 1}
    two = noise_rates(pairs, n_tracklets=3, n_gt_ids=3, min_frames=2)
    # Only (1, 1) survives: one matched tracklet holding one id; tracks 2, 3 and gt 2, 3 are unmatched.
    assert two.rsw == 1.0 and two.rfm == 1.0
    assert (two.tracklets_matched, two.gt_ids_matched) == (1, 1)
    assert two.unmatched_gt_share == pytest.approx(2 / 3)
    assert two.q_histogram == {1: 1} and two.fm_histogram == {1: 1}
    assert sequence_noise(gt, res, min_frames=2)[0] == two


def test_nothing_matched_gives_nan_and_strict_json():
    gt = gt_table([(1, 1, *box(0))])
    rates, pairs = sequence_noise(gt, res_table([(2, 1, *box(0))]))  # no tracker box in a gt frame
    assert pairs.empty and list(pairs.columns) == ["track", "gt_id", "frames"]
    assert math.isnan(rates.rfm) and math.isnan(rates.rsw)
    assert (rates.tracklets, rates.gt_ids, rates.unmatched_gt_share) == (1, 1, 1.0)
    empty, _ = sequence_noise(gt.iloc[:0], res_table([]))
    assert math.isnan(empty.unmatched_gt_share) and empty.tracklets == 0
    document = json.loads(json.dumps(rates.to_dict(), allow_nan=False))
    assert document["rfm"] is None and document["q_histogram"] == {}


def test_to_dict_is_json_ready():
    rates = NoiseRates(1.5, 1.25, 5, 3, {1: 3, 2: 1}, {2: 1, 3: 1})
    document = json.loads(json.dumps(rates.to_dict(), allow_nan=False))
    assert document == rates.to_dict()
    assert document["q_histogram"] == {"1": 3, "2": 1} and document["tracklets_matched"] == 4


def test_pooled_counts_ids_per_sequence_and_pools_the_means():
    # Sequence a: track 1 holds gt 1 and 2. Sequence b: tracks 1, 2, 3 each hold gt 1 (same numbers as in a).
    a = pd.DataFrame({"track": [1, 1], "gt_id": [1, 2], "frames": [3, 3]})
    b = pd.DataFrame({"track": [1, 2, 3], "gt_id": [1, 1, 1], "frames": [2, 2, 1]})
    rates_a, rates_b = noise_rates(a, 1, 2), noise_rates(b, 4, 1)
    assert (rates_a.rsw, rates_a.rfm, rates_b.rsw, rates_b.rfm) == (2.0, 1.0, 1.0, 3.0)
    pooled = combine({"a": (a, 1, 2), "b": (b, 4, 1)})
    # 5 incidences over 4 matched tracklets and 3 matched ids, not the means of the per-sequence values.
    assert pooled.rsw == pytest.approx(5 / 4) and pooled.rfm == pytest.approx(5 / 3)
    assert (pooled.tracklets, pooled.tracklets_matched, pooled.gt_ids, pooled.gt_ids_matched) == (5, 4, 3, 3)
    assert pooled.q_histogram == {1: 3, 2: 1} and pooled.fm_histogram == {1: 2, 3: 1}
    at_two = combine({"a": (a, 1, 2), "b": (b, 4, 1)}, min_frames=2)
    assert (at_two.tracklets_matched, at_two.rfm, at_two.rsw) == (
        3,
        pytest.approx(4 / 3),
        pytest.approx(4 / 3),
    )
    assert math.isnan(combine({}).rsw)


def test_noise_rates_rejects_bad_input():
    pairs = pd.DataFrame({"track": [1, 1], "gt_id": [1, 1], "frames": [1, 2]})
    with pytest.raises(ValueError, match="twice"):
        noise_rates(pairs, 1, 1)
    good = pairs.iloc[:1]
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="min_frames"):
            noise_rates(good, 1, 1, min_frames=bad)
    with pytest.raises(ValueError, match="smaller"):
        noise_rates(good, 0, 1)
    with pytest.raises(ValueError, match="frames"):
        noise_rates(good.drop(columns="frames"), 1, 1)


# ------------------------------------------------------------------------------------ histogram file


def test_q_histogram_round_trip(tmp_path):
    rates = NoiseRates(1.9, 1.4, 10, 6, {1: 6, 2: 1, 4: 1}, {1: 3, 2: 2})
    path = tmp_path / "out" / "q.json"
    save_q_histogram(path, rates, source="deepsort MOT17 FRCNN")
    assert load_q_histogram(path) == {1: 6, 2: 1, 4: 1}
    document = json.loads(path.read_text())
    assert document == {
        "q_histogram": {"1": 6, "2": 1, "4": 1},
        "rsw": 1.4,
        "rfm": 1.9,
        "source": "deepsort MOT17 FRCNN",
    }
    assert [p.name for p in path.parent.iterdir()] == ["q.json"]  # no temporary file left
    with pytest.raises(ValueError, match="empty"):
        save_q_histogram(tmp_path / "e.json", NoiseRates(math.nan, math.nan, 1, 1, {}, {}))
    assert not (tmp_path / "e.json").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "q_histogram"),
        ('{"rsw": 1.2}', "q_histogram"),
        ('{"q_histogram": [1, 2]}', "q_histogram"),
        ('{"q_histogram": {"0": 3}}', "integer >= 1"),
        ('{"q_histogram": {"x": 3}}', "integer >= 1"),
        ('{"q_histogram": {"1.5": 3}}', "integer >= 1"),
        ('{"q_histogram": {"1": -1}}', "integer >= 0"),
        ('{"q_histogram": {"1": 1.5}}', "integer >= 0"),
        ('{"q_histogram": {"1": true}}', "integer >= 0"),
        ('{"q_histogram": {"1": 2, "01": 3}}', "twice"),
        ('{"q_histogram": {}}', "no positive count"),
        ('{"q_histogram": {"1": 0}}', "no positive count"),
    ],
)
def test_load_q_histogram_rejects_malformed_files(tmp_path, content, problem):
    path = tmp_path / "q.json"
    path.write_text(content)
    with pytest.raises(InputError, match=problem) as error:
        load_q_histogram(path)
    assert str(error.value).startswith(str(path))


def test_load_q_histogram_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_q_histogram(tmp_path / "none.json")


# ----------------------------------------------------------------------- real data: an independent check

SEQUENCES = [f"MOT17-{n}-FRCNN" for n in ("02", "04", "05", "09", "10", "11", "13")]
EPS = np.finfo(float).eps  # the tolerance TrackEval applies to the IoU threshold


def read_rows(path) -> list[list[float]]:
    with open(path) as handle:
        return [[float(v) for v in line.split(",")] for line in handle if line.strip()]


def loop_iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def loop_pairs(gt_path, res_path) -> tuple[dict[tuple[int, int], int], set[int], set[int]]:
    """(track, gt id) -> frames matched, all tracker ids, all pedestrian ids: plain loops and dicts."""
    gt_by_frame, res_by_frame = defaultdict(list), defaultdict(list)
    gt_ids, tracks = set(), set()
    for row in read_rows(gt_path):
        if row[7] == 1 and row[6] != 0:  # class pedestrian, consider flag set
            gt_by_frame[int(row[0])].append((int(row[1]), row[2:6]))
            gt_ids.add(int(row[1]))
    for row in read_rows(res_path):
        res_by_frame[int(row[0])].append((int(row[1]), row[2:6]))
        tracks.add(int(row[1]))
    frames: dict[tuple[int, int], int] = defaultdict(int)
    for frame, res in res_by_frame.items():
        gts = gt_by_frame.get(frame, [])
        if not gts:
            continue
        # Tracker boxes as rows here (the module puts gt first): the optimum must not depend on it.
        score = np.zeros((len(res), len(gts)))
        for i, (_, r) in enumerate(res):
            for j, (_, g) in enumerate(gts):
                value = loop_iou(r, g)
                score[i, j] = value if value >= 0.5 - EPS else 0.0
        for i, j in zip(*linear_sum_assignment(score, maximize=True), strict=True):
            if score[i, j] > 0:
                frames[(res[i][0], gts[j][0])] += 1
    return dict(frames), tracks, gt_ids


def loop_rates(frames: dict, n_tracklets: int, n_gt_ids: int, min_frames: int) -> dict:
    q: dict = defaultdict(set)  # tracklet -> Q_i
    holders: dict = defaultdict(set)  # gt id -> tracklets holding it
    for (track, gt_id), n in frames.items():
        if n >= min_frames:
            q[track].add(gt_id)
            holders[gt_id].add(track)
    q_hist, fm_hist = defaultdict(int), defaultdict(int)
    for ids in q.values():
        q_hist[len(ids)] += 1
    for held in holders.values():
        fm_hist[len(held)] += 1
    return {
        "rsw": sum(len(ids) for ids in q.values()) / len(q),
        "rfm": sum(len(held) for held in holders.values()) / len(holders),
        "tracklets": n_tracklets,
        "tracklets_matched": len(q),
        "gt_ids": n_gt_ids,
        "gt_ids_matched": len(holders),
        "q_histogram": dict(sorted(q_hist.items())),
        "fm_histogram": dict(sorted(fm_hist.items())),
    }


def module_view(rates: NoiseRates) -> dict:
    """The fields :func:`loop_rates` computes."""
    keys = ("rsw", "rfm", "tracklets", "tracklets_matched", "gt_ids", "gt_ids_matched")
    return {key: getattr(rates, key) for key in (*keys, "q_histogram", "fm_histogram")}


@pytest.fixture(scope="module")
def mot17(shared_data):
    """Per sequence: (module pairs, totals, loop pairs, loop totals)."""
    out = {}
    for seq in SEQUENCES:
        gt_path = need(shared_data, f"mot17/train/{seq}/gt/gt.txt")
        res_path = need(shared_data, f"mot17/trackers/deepsort/{seq}.txt")
        gt, res = read_mot(gt_path), read_mot(res_path)
        frames, tracks, gt_ids = loop_pairs(gt_path, res_path)
        out[seq] = (match_tracklets(gt, res), sequence_totals(gt, res), frames, (len(tracks), len(gt_ids)))
    return out


@pytest.mark.parametrize("min_frames", [1, 3])
def test_deepsort_mot17_matches_an_independent_loop(mot17, min_frames):
    for seq, (pairs, (n_tracklets, n_gt_ids), frames, totals) in mot17.items():
        assert (n_tracklets, n_gt_ids) == totals, seq
        assert {(t, g): n for t, g, n in pairs.itertuples(index=False)} == frames, seq
        rates = noise_rates(pairs, n_tracklets, n_gt_ids, min_frames)
        # Integer counts over integer counts: the two computations give the same float, exactly.
        assert module_view(rates) == loop_rates(frames, *totals, min_frames), seq


@pytest.mark.parametrize("min_frames", [1, 3])
def test_deepsort_mot17_pooled_matches_an_independent_loop(mot17, min_frames):
    pooled_frames = {(seq, key): n for seq, (*_, frames, _) in mot17.items() for key, n in frames.items()}
    # Key each pair by sequence: ((seq, track), (seq, gt id)) -> frames.
    keyed = {((seq, t), (seq, g)): n for (seq, (t, g)), n in pooled_frames.items()}
    n_tracklets = sum(totals[0] for *_, totals in mot17.values())
    n_gt_ids = sum(totals[1] for *_, totals in mot17.values())
    expected = loop_rates(keyed, n_tracklets, n_gt_ids, min_frames)
    pooled = combine({seq: (pairs, *counts) for seq, (pairs, counts, _, _) in mot17.items()}, min_frames)
    assert module_view(pooled) == expected
    per_sequence = [noise_rates(p, *c, min_frames).rsw for p, c, _, _ in mot17.values()]
    assert pooled.rsw != pytest.approx(sum(per_sequence) / len(per_sequence))  # pooled, not a mean of means
