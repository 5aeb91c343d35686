"""CLEAR MOT as MOTChallenge's official evaluator counts it (noise/clear_motchallenge.py): every field equal
to TrackEval's own CLEAR class on real tracker outputs (the reference DeepSORT and ours, 7 MOT17 FRCNN
sequences, each and combined), through ``rfv mot-eval`` end to end, and the two places where motmetrics
counts otherwise, on hand-made cases whose counts are derived by hand."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import need
from trackeval_reference import trackeval_data

from reid_from_video.cli import main
from reid_from_video.io.mot import MOT_COLUMNS, read_mot, write_mot
from reid_from_video.noise.clear_motchallenge import ClearCounts, clear_counts
from reid_from_video.noise.preprocess import scored_boxes

SEQUENCES = [f"MOT17-{n}-FRCNN" for n in ("02", "04", "05", "09", "10", "11", "13")]
COUNTS = {  # ours -> TrackEval's integer fields
    "tp": "CLR_TP",
    "fn": "CLR_FN",
    "fp": "CLR_FP",
    "idsw": "IDSW",
    "frag": "Frag",
    "mt": "MT",
    "pt": "PT",
    "ml": "ML",
}
RATIOS = {"mota": "MOTA", "motp": "MOTP", "recall": "CLR_Re", "precision": "CLR_Pr"}


def trackeval_clear():
    trackeval = pytest.importorskip("trackeval")
    return trackeval.metrics.CLEAR({"PRINT_CONFIG": False})


def assert_same(ours: ClearCounts, theirs: dict) -> None:
    for field, name in COUNTS.items():
        assert getattr(ours, field) == int(theirs[name]), field
    for field, name in RATIOS.items():
        assert getattr(ours, field) == pytest.approx(float(theirs[name]), rel=1e-12, abs=1e-12), field


@functools.cache
def our_tracking(root: Path, out: Path) -> Path:
    """Our DeepSORT on the public FRCNN detections of the 7 sequences (frameless, about 10 s)."""
    cameras = "[" + ", ".join(SEQUENCES) + "]"
    track = ["track", str(root / "mot17" / "train"), "--out", str(out), "-c", "mot17", "progress=false"]
    assert main([*track, f"cameras={cameras}"]) == 0
    return out / "mot"


@pytest.fixture(scope="module")
def results(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for seq in SEQUENCES:
        need(shared_data, f"mot17/train/{seq}/gt/gt.txt")
        need(shared_data, f"mot17/trackers/deepsort/{seq}.txt")
    return {
        "reference DeepSORT": shared_data / "mot17" / "trackers" / "deepsort",
        "ours": our_tracking(shared_data, tmp_path_factory.mktemp("mot17-ours")),
    }


@pytest.mark.parametrize("tracker", ["reference DeepSORT", "ours"])
def test_every_clear_field_equals_trackeval_per_sequence_and_combined(shared_data, results, tracker):
    metric = trackeval_clear()
    ours, theirs = {}, {}
    for seq in SEQUENCES:
        gt = read_mot(shared_data / "mot17" / "train" / seq / "gt" / "gt.txt")
        scored = scored_boxes(gt, read_mot(results[tracker] / f"{seq}.txt"))
        ours[seq] = clear_counts(scored.gt, scored.result)
        theirs[seq] = metric.eval_sequence(trackeval_data(scored.gt, scored.result))
        assert_same(ours[seq], theirs[seq])
    assert_same(sum(ours.values(), ClearCounts()), metric.combine_sequences(theirs))


def test_mot_eval_reports_trackevals_clear_by_default_and_motmetrics_on_request(
    shared_data, results, tmp_path
):
    """``rfv mot-eval`` end to end against TrackEval's whole MOTChallenge pipeline on the same files."""
    trackeval = pytest.importorskip("trackeval")
    seqs = ["MOT17-02-FRCNN", "MOT17-09-FRCNN"]
    evaluator = trackeval.Evaluator(
        {"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
         "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None}
    )  # fmt: skip
    dataset = trackeval.datasets.MotChallenge2DBox(
        {"GT_FOLDER": str(shared_data / "mot17" / "train"),
         "TRACKERS_FOLDER": str(shared_data / "mot17" / "trackers"), "TRACKERS_TO_EVAL": ["deepsort"],
         "TRACKER_SUB_FOLDER": "", "SKIP_SPLIT_FOL": True,
         "SEQ_INFO": dict.fromkeys(seqs), "OUTPUT_FOLDER": str(tmp_path / "trackeval"), "BENCHMARK": "MOT17",
         "PRINT_CONFIG": False}
    )  # fmt: skip
    output, _ = evaluator.evaluate([dataset], [trackeval.metrics.CLEAR({"PRINT_CONFIG": False})])
    theirs = output["MotChallenge2DBox"]["deepsort"]
    names = {"num_switches": "IDSW", "num_false_positives": "CLR_FP", "num_misses": "CLR_FN",
             "mostly_tracked": "MT", "partially_tracked": "PT", "mostly_lost": "ML",
             "num_fragmentations": "Frag"}  # fmt: skip
    runs = {}
    for clear in ("trackeval", "motmetrics"):
        out = tmp_path / clear
        args = ["mot-eval", str(shared_data / "mot17" / "train"), str(results["reference DeepSORT"])]
        assert main([*args, "--out", str(out), f"seqs=[{', '.join(seqs)}]", f"clear={clear}"]) == 0
        runs[clear] = json.loads((out / "summary.json").read_text())
    for seq, key in [*((s, s) for s in seqs), ("COMBINED", "COMBINED_SEQ")]:
        official = theirs[key]["pedestrian"]["CLEAR"]
        row = (
            runs["trackeval"]["sequences"][seq]["clear"]
            if seq != "COMBINED"
            else runs["trackeval"][seq]["clear"]
        )
        assert {k: row[k] for k in names} == {k: float(official[v]) for k, v in names.items()}
        assert row["mota"] == pytest.approx(official["MOTA"], abs=1e-12)
        assert row["motp"] == pytest.approx(official["MOTP"], abs=1e-12)
    # MOT17-02 is one of the sequences where motmetrics' semantics count otherwise.
    other = runs["motmetrics"]["sequences"]["MOT17-02-FRCNN"]["clear"]
    mine = runs["trackeval"]["sequences"]["MOT17-02-FRCNN"]["clear"]
    assert any(other[k] != mine[k] for k in names)
    assert other["idf1"] == mine["idf1"]  # identity metrics are motmetrics' in both (equal to TrackEval's)


# ---------------------------------------------------------------------------------- hand-made cases


def table(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame([(*row, 1.0, 1, 1.0) for row in rows], columns=list(MOT_COLUMNS))
    return frame.astype({"frame": np.int64, "id": np.int64, "cls": np.int64})


def motmetrics_counts(gt: pd.DataFrame, result: pd.DataFrame, tmp_path: Path) -> dict[str, float]:
    """``rfv mot-eval clear=motmetrics`` on one sequence written as MOTChallenge files."""
    write_mot(tmp_path / "gt" / "seq" / "gt" / "gt.txt", gt, kind="gt")
    write_mot(tmp_path / "res" / "seq.txt", result)
    args = ["mot-eval", str(tmp_path / "gt"), str(tmp_path / "res"), "--out", str(tmp_path / "eval")]
    assert main([*args, "clear=motmetrics", "preprocess=false", "hota=false", "plots=false"]) == 0
    return json.loads((tmp_path / "eval" / "summary.json").read_text())["COMBINED"]["clear"]


def test_a_match_is_kept_only_from_the_previous_frame(tmp_path):
    """Person 1 matched to track 7 in frame 1; frame 2 has only a far-away box; in frame 3 tracks 7 and 8
    both cover person 1, 8 better. TrackEval: 7's match is two frames old, so the better 8 wins: 1 IDSW.
    motmetrics keeps 7 (still valid): no switch, 8 a false positive."""
    person = (100.0, 100.0, 50.0, 100.0)
    gt = table([(1, 1, *person), (2, 1, *person), (3, 1, *person)])
    result = table([
        (1, 7, *person),
        (2, 9, 400.0, 400.0, 50.0, 100.0),
        (3, 7, 110.0, 100.0, 50.0, 100.0),  # IoU 40 * 100 / (2 * 5000 - 4000) = 0.667
        (3, 8, 102.0, 100.0, 50.0, 100.0),  # IoU 0.923
    ])  # fmt: skip
    ours = clear_counts(gt, result)
    assert (ours.tp, ours.fp, ours.fn, ours.idsw, ours.frag) == (2, 2, 1, 1, 1)
    theirs = motmetrics_counts(gt, result, tmp_path)
    assert (theirs["num_switches"], theirs["num_false_positives"]) == (0, 2)
    assert_same(ours, trackeval_clear().eval_sequence(trackeval_data(gt, result)))


def test_mostly_tracked_is_above_four_fifths(tmp_path):
    """Tracked in 4 of 5 frames: coverage exactly 0.8 is PT for TrackEval, MT for motmetrics."""
    person = (100.0, 100.0, 50.0, 100.0)
    gt = table([(f, 1, *person) for f in range(1, 6)])
    result = table([(f, 7, *person) for f in range(1, 5)])
    ours = clear_counts(gt, result)
    assert (ours.mt, ours.pt, ours.ml) == (0, 1, 0)
    assert motmetrics_counts(gt, result, tmp_path)["mostly_tracked"] == 1
    assert_same(ours, trackeval_clear().eval_sequence(trackeval_data(gt, result)))


def test_frames_without_tracker_boxes_do_not_break_the_previous_frame_match():
    """A frame with gt but no tracker box leaves "matched in the previous frame" as it was (TrackEval skips
    it): in frame 3, track 7 keeps person 1 against the better track 8; frame 2 is a miss, not a fragment
    start."""
    person = (100.0, 100.0, 50.0, 100.0)
    gt = table([(1, 1, *person), (2, 1, *person), (3, 1, *person)])
    result = table([(1, 7, *person), (3, 7, 110.0, 100.0, 50.0, 100.0), (3, 8, 102.0, 100.0, 50.0, 100.0)])
    ours = clear_counts(gt, result)
    assert (ours.tp, ours.fn, ours.fp, ours.idsw, ours.frag) == (2, 1, 1, 0, 0)
    assert_same(ours, trackeval_clear().eval_sequence(trackeval_data(gt, result)))
