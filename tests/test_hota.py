"""HOTA against TrackEval's own implementation: its HOTA class fed the same data, its full MOTChallenge
pipeline on the real files, and hand-made cases whose values are derived by hand."""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import need
from trackeval_reference import trackeval_data

from reid_from_video.io.mot import MOT_COLUMNS, read_mot
from reid_from_video.noise.hota import ALPHAS, HotaResult, combine_hota, hota
from reid_from_video.noise.preprocess import scored_boxes

SEQUENCES = [f"MOT17-{n}-FRCNN" for n in ("02", "04", "05", "09", "10", "11", "13")]
RTOL = 1e-9
# Our per-alpha arrays -> TrackEval's field names.
ARRAYS = {
    "tp": "HOTA_TP",
    "fn": "HOTA_FN",
    "fp": "HOTA_FP",
    "hota_alpha": "HOTA",
    "deta_alpha": "DetA",
    "assa_alpha": "AssA",
    "detre_alpha": "DetRe",
    "detpr_alpha": "DetPr",
    "assre_alpha": "AssRe",
    "asspr_alpha": "AssPr",
    "loca_alpha": "LocA",
    "owta_alpha": "OWTA",
}


# ------------------------------------------------------------------------------------------- helpers


def table(rows: list[tuple]) -> pd.DataFrame:
    """A scored table from (frame, id, x, y, w, h) rows: pedestrians, flag set, fully visible."""
    frame = pd.DataFrame([(*row, 1.0, 1, 1.0) for row in rows], columns=list(MOT_COLUMNS))
    return frame.astype({"frame": np.int64, "id": np.int64, "cls": np.int64})


def assert_same(ours: HotaResult, theirs: dict) -> None:
    """Every summary value and every per-alpha value of ours equals TrackEval's to RTOL."""
    for name, value in ours.summary().items():
        expected = float(np.mean(theirs[name]))  # TrackEval's summary: the mean over the alphas
        assert value == pytest.approx(expected, rel=RTOL, abs=1e-15), name
    for ours_name, their_name in ARRAYS.items():
        np.testing.assert_allclose(getattr(ours, ours_name), theirs[their_name], rtol=RTOL, atol=1e-15)


def trackeval_hota():
    trackeval = pytest.importorskip("trackeval")
    return trackeval.metrics.HOTA()


def checked(gt: pd.DataFrame, result: pd.DataFrame) -> HotaResult:
    """Our HOTA, after checking that TrackEval's HOTA gives the same on the same data."""
    ours = hota(gt, result)
    assert_same(ours, trackeval_hota().eval_sequence(trackeval_data(gt, result)))
    return ours


def mean_sqrt(deta: np.ndarray, assa: np.ndarray) -> float:
    return float(np.mean(np.sqrt(deta * assa)))


# ---------------------------------------------------------------------------------------- real data


@functools.cache
def mot17_run(root: Path, seq: str) -> tuple[HotaResult, dict, float]:
    """Our HOTA, TrackEval's HOTA on the same scored boxes, and our time in seconds, for one sequence."""
    gt = read_mot(root / "mot17" / "train" / seq / "gt" / "gt.txt")
    result = read_mot(root / "mot17" / "trackers" / "deepsort" / f"{seq}.txt")
    scored = scored_boxes(gt, result)
    start = time.perf_counter()
    ours = hota(scored.gt, scored.result)
    seconds = time.perf_counter() - start
    theirs = trackeval_hota().eval_sequence(trackeval_data(scored.gt, scored.result))
    return ours, theirs, seconds


def need_sequence(root: Path, seq: str) -> None:
    need(root, f"mot17/train/{seq}/gt/gt.txt")
    need(root, f"mot17/trackers/deepsort/{seq}.txt")


@pytest.mark.parametrize("seq", SEQUENCES)
def test_mot17_deepsort_equals_trackeval_hota(shared_data, seq):
    need_sequence(shared_data, seq)
    ours, theirs, seconds = mot17_run(shared_data, seq)
    assert_same(ours, theirs)
    assert 0.3 < ours.hota < 0.6  # the reference DeepSORT on public FRCNN detections
    assert seconds < 3.0  # about 0.07 s for MOT17-04 (47k gt boxes); a guard against slow rewrites


def test_mot17_deepsort_combined_equals_trackeval(shared_data):
    for seq in SEQUENCES:
        need_sequence(shared_data, seq)
    runs = {seq: mot17_run(shared_data, seq) for seq in SEQUENCES}
    ours = combine_hota([ours for ours, _, _ in runs.values()])
    theirs = trackeval_hota().combine_sequences({seq: theirs for seq, (_, theirs, _) in runs.items()})
    assert_same(ours, theirs)
    assert ours.tp[0] == sum(r.tp[0] for r, _, _ in runs.values())


def test_mot17_end_to_end_equals_trackeval_evaluator(shared_data, tmp_path):
    """TrackEval's whole MOTChallenge pipeline (reading, preprocessing, HOTA) reading the data in place."""
    trackeval = pytest.importorskip("trackeval")
    seqs = ["MOT17-09-FRCNN", "MOT17-04-FRCNN"]
    for seq in seqs:
        need_sequence(shared_data, seq)
        need(shared_data, f"mot17/train/{seq}/seqinfo.ini")
    evaluator = trackeval.Evaluator(
        {
            "USE_PARALLEL": False,
            "PRINT_RESULTS": False,
            "PRINT_CONFIG": False,
            "TIME_PROGRESS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
            "LOG_ON_ERROR": None,
        }
    )
    dataset = trackeval.datasets.MotChallenge2DBox(
        {
            "GT_FOLDER": str(shared_data / "mot17" / "train"),  # {GT_FOLDER}/{seq}/gt/gt.txt, seqinfo.ini
            "TRACKERS_FOLDER": str(
                shared_data / "mot17" / "trackers"
            ),  # {TRACKERS_FOLDER}/deepsort/{seq}.txt
            "TRACKERS_TO_EVAL": ["deepsort"],
            "TRACKER_SUB_FOLDER": "",
            "SKIP_SPLIT_FOL": True,
            "SEQ_INFO": dict.fromkeys(seqs),  # lengths read from seqinfo.ini
            "OUTPUT_FOLDER": str(tmp_path),
            "BENCHMARK": "MOT17",
            "PRINT_CONFIG": False,
        }
    )
    output, messages = evaluator.evaluate([dataset], [trackeval.metrics.HOTA()])
    assert messages["MotChallenge2DBox"]["deepsort"] == "Success"
    theirs = output["MotChallenge2DBox"]["deepsort"]
    ours = []
    for seq in seqs:
        gt = read_mot(shared_data / "mot17" / "train" / seq / "gt" / "gt.txt")
        result = read_mot(shared_data / "mot17" / "trackers" / "deepsort" / f"{seq}.txt")
        scored = scored_boxes(gt, result)
        ours.append(hota(scored.gt, scored.result))
        assert_same(ours[-1], theirs[seq]["pedestrian"]["HOTA"])
    assert_same(combine_hota(ours), theirs["COMBINED_SEQ"]["pedestrian"]["HOTA"])


# ---------------------------------------------------------------------------------- hand-made cases

# Two people walking apart, 10 frames; both tracked by boxes with IoU 1 unless a case says otherwise.
FRAMES = range(1, 11)


def walk(frame: int, person: int) -> tuple[float, float, float, float]:
    return (10.0 * frame + 200.0 * person, 50.0, 40.0, 100.0)


def two_people() -> pd.DataFrame:
    return table([(f, p + 1, *walk(f, p)) for f in FRAMES for p in (0, 1)])


def test_perfect_tracker_scores_one_whatever_its_ids():
    gt = two_people()
    result = gt.copy()
    result["id"] = result["id"].map({1: 10**12, 2: -7})
    ours = checked(gt, result)
    for name, value in ours.summary().items():
        assert value == pytest.approx(1.0, abs=1e-12), name
    assert (ours.tp == 20).all() and (ours.fn == 0).all() and (ours.fp == 0).all()


def test_empty_tracker_scores_zero():
    gt = two_people()
    ours = checked(gt, table([]))
    assert (ours.hota, ours.deta, ours.assa, ours.detre, ours.detpr) == (0, 0, 0, 0, 0)
    assert ours.loca == 1.0  # TrackEval's convention
    assert (ours.fn == 20).all() and (ours.tp == 0).all() and (ours.fp == 0).all()


def test_empty_ground_truth_and_empty_both():
    ours = checked(table([]), two_people())
    assert ours.hota == 0 and (ours.fp == 20).all() and (ours.fn == 0).all()
    ours = checked(table([]), table([]))
    assert ours.hota == 0 and ours.loca == 1 and (ours.tp + ours.fn + ours.fp == 0).all()


def test_one_id_switch_mid_sequence():
    """One person, tracked by id 5 in frames 1-5 and id 6 in frames 6-10.

    Every box matches (DetA 1). The gt track (10 boxes) shares 5 matches with each tracker track (5 boxes):
    pair score 5 / (10 + 5 - 5) = 1/2, so AssA = (5 * 1/2 + 5 * 1/2) / 10 = 1/2; AssRe = 5/10 = 1/2;
    AssPr = 5/5 = 1; HOTA = sqrt(1 * 1/2).
    """
    gt = table([(f, 1, *walk(f, 0)) for f in FRAMES])
    result = table([(f, 5 if f <= 5 else 6, *walk(f, 0)) for f in FRAMES])
    ours = checked(gt, result)
    assert ours.deta == pytest.approx(1.0)
    assert ours.assa == pytest.approx(0.5)
    assert ours.assre == pytest.approx(0.5)
    assert ours.asspr == pytest.approx(1.0)
    assert ours.hota == pytest.approx(math.sqrt(0.5))
    assert ours.owta == pytest.approx(math.sqrt(0.5))


def test_two_tracks_swap_ids():
    """Two people; the tracker swaps their ids at frame 6: each of the 4 id pairs has 5 matches,
    pair score 5 / (10 + 10 - 5) = 1/3, AssA 1/3, AssRe = AssPr = 1/2."""
    gt = two_people()
    result = table([(f, (p if f <= 5 else 1 - p) + 1, *walk(f, p)) for f in FRAMES for p in (0, 1)])
    ours = checked(gt, result)
    assert ours.deta == pytest.approx(1.0)
    assert ours.assa == pytest.approx(1 / 3)
    assert ours.assre == pytest.approx(0.5) and ours.asspr == pytest.approx(0.5)
    assert ours.hota == pytest.approx(math.sqrt(1 / 3))


def test_misses_and_false_positives():
    """One person over 10 frames, tracked only in frames 1-5, plus a stray box in frames 1-2.
    TP 5, FN 5, FP 2 at every alpha: DetA 5/12, DetRe 1/2, DetPr 5/7; AssA 5 / (10 + 5 - 5) = 1/2."""
    gt = table([(f, 1, *walk(f, 0)) for f in FRAMES])
    result = table([(f, 3, *walk(f, 0)) for f in range(1, 6)] + [(f, 4, *walk(f, 3)) for f in (1, 2)])
    ours = checked(gt, result)
    assert (ours.tp == 5).all() and (ours.fn == 5).all() and (ours.fp == 2).all()
    assert ours.deta == pytest.approx(5 / 12)
    assert ours.detre == pytest.approx(0.5) and ours.detpr == pytest.approx(5 / 7)
    assert ours.assa == pytest.approx(0.5) and ours.asspr == pytest.approx(1.0)
    assert ours.hota == pytest.approx(math.sqrt(5 / 12 * 0.5))


def test_localisation_sets_which_alphas_match():
    """Tracker boxes with IoU 0.68 match at the 13 alphas <= 0.65 and at none above; an alpha without
    matches has DetA 0, AssA 0 and, by TrackEval's convention, LocA 1."""
    gt = table([(f, 1, 0.0, 0.0, 10.0, 10.0) for f in FRAMES])
    result = table([(f, 2, 0.0, 0.0, 10.0, 6.8) for f in FRAMES])
    ours = checked(gt, result)
    matched = ALPHAS <= 0.68
    assert matched.sum() == 13
    assert (ours.tp == np.where(matched, 10, 0)).all()
    assert ours.deta == pytest.approx(13 / 19) and ours.assa == pytest.approx(13 / 19)
    assert ours.hota == pytest.approx(13 / 19)
    assert ours.loca == pytest.approx((13 * 0.68 + 6) / 19)
    assert ours.hota0 == pytest.approx(1.0) and ours.loca0 == pytest.approx(0.68)


def test_global_alignment_overrides_a_better_single_frame_iou():
    """Track 7 follows the person all along with IoU 0.78; in frame 10 a one-frame track 8 overlaps the
    person better (IoU 0.9). IoU alone would match 8 there; HOTA's alignment score keeps 7, so the
    person's whole track is one pair (AssA 1) and 8 is a false positive (DetA 10/11) at alphas <= 0.75."""
    gt = table([(f, 1, 0.0, 0.0, 10.0, 10.0) for f in FRAMES])
    result = table([(f, 7, 0.0, 0.0, 10.0, 7.8) for f in FRAMES] + [(10, 8, 0.0, 0.0, 10.0, 9.0)])
    ours = checked(gt, result)
    matched = ALPHAS <= 0.78
    assert matched.sum() == 15
    assert (ours.tp == np.where(matched, 10, 0)).all() and (ours.fp == np.where(matched, 1, 11)).all()
    deta = np.where(matched, 10 / 11, 0.0)
    assa = np.where(matched, 1.0, 0.0)
    np.testing.assert_allclose(ours.deta_alpha, deta)
    np.testing.assert_allclose(ours.assa_alpha, assa)
    assert ours.hota == pytest.approx(mean_sqrt(deta, assa))
    assert ours.loca == pytest.approx((15 * 0.78 + 4) / 19)


def test_rows_in_any_order_give_the_same_result():
    gt = two_people()
    result = table([(f, (p if f <= 5 else 1 - p) + 1, *walk(f, p)) for f in FRAMES for p in (0, 1)])
    result = pd.concat([result, table([(3, 9, 0.0, 0.0, 5.0, 5.0)])], ignore_index=True)
    expected = hota(gt, result).summary()
    rng = np.random.default_rng(0)
    shuffled = hota(gt.iloc[rng.permutation(len(gt))], result.iloc[rng.permutation(len(result))])
    assert shuffled.summary() == pytest.approx(expected, rel=1e-12)


def test_combine_sums_detections_and_weights_association_by_tp():
    """A perfect sequence (20 boxes) with one whose tracker is empty (10 boxes): DetA 20/30 at every
    alpha, AssA and LocA those of the only sequence with matches (1)."""
    perfect = hota(two_people(), two_people())
    missed = hota(table([(f, 1, *walk(f, 0)) for f in FRAMES]), table([]))
    combined = combine_hota([perfect, missed])
    assert (combined.tp == 20).all() and (combined.fn == 10).all() and (combined.fp == 0).all()
    assert combined.deta == pytest.approx(2 / 3)
    assert combined.assa == pytest.approx(1.0) and combined.loca == pytest.approx(1.0)
    assert combined.hota == pytest.approx(math.sqrt(2 / 3))
    assert combine_hota([perfect]).summary() == perfect.summary()


def test_combine_matches_trackeval_on_hand_cases():
    cases = [
        (two_people(), two_people()),
        (
            table([(f, 1, *walk(f, 0)) for f in FRAMES]),
            table([(f, 5 if f <= 5 else 6, *walk(f, 0)) for f in FRAMES]),
        ),
        (
            table([(f, 1, 0.0, 0.0, 10.0, 10.0) for f in FRAMES]),
            table([(f, 2, 0.0, 0.0, 10.0, 6.8) for f in FRAMES]),
        ),
        (two_people(), table([])),
    ]
    metric = trackeval_hota()
    ours = combine_hota([hota(gt, result) for gt, result in cases])
    theirs = metric.combine_sequences(
        {str(i): metric.eval_sequence(trackeval_data(gt, result)) for i, (gt, result) in enumerate(cases)}
    )
    assert_same(ours, theirs)


def test_duplicate_id_in_a_frame_is_an_error():
    gt = table([(1, 1, 0.0, 0.0, 10.0, 10.0), (1, 1, 50.0, 0.0, 10.0, 10.0)])
    with pytest.raises(ValueError, match="twice in frame 1"):
        hota(gt, table([(1, 1, 0.0, 0.0, 10.0, 10.0)]))


def test_result_is_immutable():
    ours = hota(two_people(), two_people())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ours.hota = 0.5  # type: ignore[misc]
    with pytest.raises(ValueError):
        ours.tp[0] = 3
    assert len(ours.alphas) == len(ours.tp) == 19
    assert "hota=1.0000" in repr(ours)
    with pytest.raises(ValueError, match="no results"):
        combine_hota([])
