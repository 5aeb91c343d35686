"""rfv mot-eval: motmetrics parity, the MOTChallenge preprocessing, bad input, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import need

from reid_from_video.cli import main
from reid_from_video.core.errors import InputError
from reid_from_video.io.mot import SeqInfo, read_mot, write_mot, write_seqinfo
from reid_from_video.noise import motmetrics_compat
from reid_from_video.noise.clear import clear_metrics, motmetrics_events
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import score_mot
from reid_from_video.noise.preprocess import scored_boxes
from reid_from_video.noise.rfm_rsw import load_q_histogram

mm = pytest.importorskip("motmetrics")
motmetrics_compat.patch()
TUD = Path(mm.__file__).parent / "data"

# motmetrics' own expected values for its bundled TUD files (tests/test_metrics.py::test_motchallenge_files):
# idf1, idp, idr, recall, precision, num_unique_objects, mostly_tracked, partially_tracked, mostly_lost,
# num_false_positives, num_misses, num_switches, num_fragmentations, mota, motp (mean distance 1 - IoU).
TUD_EXPECTED = {
    "TUD-Campus":
        [0.557659, 0.729730, 0.451253, 0.582173, 0.941441, 8, 1, 6, 1, 13, 150, 7, 7, 0.526462, 0.277201],
    "TUD-Stadtmitte":
        [0.644619, 0.819760, 0.531142, 0.608997, 0.939920, 10, 5, 4, 1, 45, 452, 7, 6, 0.564014, 0.345904],
    "OVERALL": [0.624296, 0.799176, 0.512211, 0.602640, 0.940268, 18, 6, 10, 2, 58, 602, 14, 13, 0.555116,
                0.330177],
}  # fmt: skip
FIRST_15 = list(mm.metrics.motchallenge_metrics[:15])
FRCNN = ["MOT17-02-FRCNN", "MOT17-09-FRCNN"]


def tud_tree(tmp_path: Path) -> tuple[Path, Path]:
    """motmetrics' TUD files laid out as a MOTChallenge tree and a results folder."""
    gt_root, results = tmp_path / "gt", tmp_path / "results"
    results.mkdir(parents=True)
    for name in ("TUD-Campus", "TUD-Stadtmitte"):
        (gt_root / name / "gt").mkdir(parents=True)
        (gt_root / name / "gt" / "gt.txt").write_bytes((TUD / name / "gt.txt").read_bytes())
        (results / f"{name}.txt").write_bytes((TUD / name / "test.txt").read_bytes())
    return gt_root, results


@pytest.mark.parametrize("preprocess", [False, True])  # TUD (MOT15 layout) has no classes: the same result
def test_tud_reproduces_motmetrics_expected_values(tmp_path: Path, preprocess: bool):
    gt_root, results = tud_tree(tmp_path)
    config = MotEvalConfig(preprocess=preprocess, hota=False, plots=False, clear="motmetrics")
    report = score_mot(gt_root, results, config)[0].to_json()
    for name, expected in TUD_EXPECTED.items():
        clear = report["sequences"][name]["clear"] if name != "OVERALL" else report["COMBINED"]["clear"]
        ours = [clear[key] for key in FIRST_15]
        ours[-1] = 1.0 - ours[-1]  # we report MOTP as mean IoU; motmetrics' test has the mean distance
        np.testing.assert_allclose(ours, expected, atol=1e-3, err_msg=name)


def reference_events(gt: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """motmetrics' own accumulator fed frame by frame (what compare_to_groundtruth does)."""
    acc = mm.MOTAccumulator()
    frames = sorted(set(gt["frame"]) | set(result["frame"]))
    for frame in frames:
        g, r = gt[gt["frame"] == frame], result[result["frame"] == frame]
        boxes_g, boxes_r = g[["x", "y", "w", "h"]].to_numpy(), r[["x", "y", "w", "h"]].to_numpy()
        dists = (
            mm.distances.iou_matrix(boxes_g, boxes_r, max_iou=0.5) if len(g) and len(r) else np.empty((0, 0))
        )
        acc.update(g["id"].to_numpy(), r["id"].to_numpy(), dists, frameid=frame)
    return acc.events


def assert_same_events(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert ours.index.equals(ref.index)
    assert (ours["Type"].astype(str).to_numpy() == ref["Type"].astype(str).to_numpy()).all()
    np.testing.assert_array_equal(ours[["OId", "HId", "D"]].to_numpy(), ref[["OId", "HId", "D"]].to_numpy())


def test_event_table_equals_motmetrics_accumulator_on_tud():
    for name in ("TUD-Campus", "TUD-Stadtmitte"):
        gt, result = read_mot(TUD / name / "gt.txt", kind="gt"), read_mot(TUD / name / "test.txt")
        assert_same_events(motmetrics_events(gt, result), reference_events(gt, result))


def test_event_table_and_metrics_equal_motmetrics_on_real_mot17(shared_data: Path):
    events, refs = {}, {}
    for seq in FRCNN:
        gt = read_mot(need(shared_data, f"mot17/train/{seq}/gt/gt.txt"))
        result = read_mot(need(shared_data, f"mot17/trackers/deepsort/{seq}.txt"))
        scored = scored_boxes(gt, result, preprocess=True)
        events[seq] = motmetrics_events(scored.gt, scored.result)
        refs[seq] = reference_events(scored.gt, scored.result)
        assert_same_events(events[seq], refs[seq])
    ours = clear_metrics(events)
    theirs = mm.metrics.create().compute_many(
        list(refs.values()), metrics=list(ours.columns), names=list(refs), generate_overall=True
    )
    pd.testing.assert_frame_equal(ours, theirs)


def frame_table(rows: list[tuple], kind: str) -> pd.DataFrame:
    """Rows (frame, id, x, y, w, h) -- for gt optionally (..., consider, class) -- as a MOT table."""
    data = []
    for frame, ident, x, y, w, h, *rest in rows:
        if kind == "gt":
            consider, cls = rest or (1, 1)
            data.append((frame, ident, x, y, w, h, consider, cls, 1.0))
        else:
            data.append((frame, ident, x, y, w, h, 1.0, -1, -1.0))
    table = pd.DataFrame(data, columns=["frame", "id", "x", "y", "w", "h", "conf", "cls", "vis"])
    return table.astype({"frame": "int64", "id": "int64", "cls": "int64", "x": float, "y": float, "w": float,
                         "h": float, "conf": float, "vis": float})  # fmt: skip


def test_preprocessing_removes_only_tracker_boxes_matched_to_distractors():
    gt = frame_table(
        [(1, 1, 0, 0, 10, 10, 1, 1), (1, 2, 100, 0, 10, 10, 0, 7), (1, 3, 200, 0, 10, 10, 0, 3),
         (1, 4, 300, 0, 10, 10, 0, 1)],
        "gt",
    )  # fmt: skip
    result = frame_table(
        [(1, 11, 0, 0, 10, 10), (1, 12, 100, 0, 10, 10), (1, 13, 200, 0, 10, 10), (1, 14, 300, 0, 10, 10)],
        "result",
    )
    scored = scored_boxes(gt, result, preprocess=True)
    assert scored.removed == 1
    assert scored.gt["id"].tolist() == [1]  # the only pedestrian with the consider flag
    assert scored.result["id"].tolist() == [11, 13, 14]  # the box on the static person (class 7) is gone
    metrics = clear_metrics({"s": motmetrics_events(scored.gt, scored.result)}, overall=False).loc["s"]
    assert (metrics["num_false_positives"], metrics["num_misses"]) == (2, 0)  # on the car and the unflagged
    plain = scored_boxes(gt, result, preprocess=False)
    assert plain.removed == 0 and plain.gt["id"].tolist() == [1]


def small_tree(tmp_path: Path) -> tuple[Path, Path]:
    """Two sequences of 4 frames: A tracked with one switch, B tracked perfectly."""
    gt_root, results = tmp_path / "gt", tmp_path / "res"
    results.mkdir(parents=True)
    for name in ("A", "B"):
        rows = [(f, p, 50 * p, 0, 20, 40, 1, 1) for f in range(1, 5) for p in (1, 2)]
        write_mot(gt_root / name / "gt" / "gt.txt", frame_table(rows, "gt"), kind="gt")
        write_seqinfo(
            gt_root / name, SeqInfo(name=name, frame_rate=10, seq_length=4, im_width=200, im_height=100)
        )
    switched = [(f, 7 if f < 3 or p == 2 else 9, 50 * p, 0, 20, 40) for f in range(1, 5) for p in (1, 2)]
    switched = [
        (f, 8 if p == 2 else i, x, y, w, h)
        for (f, i, x, y, w, h), p in zip(switched, [1, 2] * 4, strict=True)
    ]
    write_mot(results / "A.txt", frame_table(switched, "result"))
    write_mot(
        results / "B.txt",
        frame_table([(f, p, 50 * p, 0, 20, 40) for f in range(1, 5) for p in (1, 2)], "result"),
    )
    return gt_root, results


def test_small_tree_numbers_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    gt_root, results = small_tree(tmp_path)
    out = tmp_path / "out"
    assert main(["mot-eval", str(gt_root), str(results), "--out", str(out)]) == 0
    report = json.loads((out / "summary.json").read_text())  # strict JSON: no NaN
    a, b = report["sequences"]["A"], report["sequences"]["B"]
    assert b["clear"]["mota"] == 1.0 and b["clear"]["idf1"] == 1.0 and b["hota"]["HOTA"] == pytest.approx(1.0)
    assert a["clear"]["num_switches"] == 1  # person 1 goes from track 7 to track 9
    assert (a["noise"]["rfm"], a["noise"]["rsw"]) == (1.5, 1.0)  # id 1 in two tracklets, each tracklet pure
    assert report["COMBINED"]["noise"]["tracklets"] == 5 and report["COMBINED"]["noise"]["gt_ids"] == 4
    assert report["COMBINED"]["noise"]["rfm"] == pytest.approx(5 / 4)
    assert load_q_histogram(out / "q_histogram.json") == {1: 5}
    csv = pd.read_csv(out / "summary.csv", index_col=0)
    assert list(csv.index) == ["A", "B", "COMBINED"] and csv.loc["A", "IDSW"] == 1
    assert (out / "histograms.png").stat().st_size > 1000 and (out / "config.yaml").is_file()
    assert "COMBINED" in capsys.readouterr().out


def test_bad_input_is_an_error_or_a_counted_warning(tmp_path: Path):
    gt_root, results = small_tree(tmp_path)
    (results / "C.txt").write_text("1,1,0,0,10,10,1,-1,-1,-1\n")  # no ground truth: ignored, counted
    rows = read_mot(results / "B.txt")
    rows.loc[0, "w"] = 0  # non-positive size: dropped
    rows = pd.concat([rows, rows.iloc[[1]].assign(frame=9)])  # after seqLength 4: dropped
    write_mot(results / "B.txt", rows)
    report = score_mot(gt_root, results, MotEvalConfig(hota=False, plots=False))[0].to_json()
    assert report["warning_counts"] == {
        "sequence_warnings": 1,
        "non_positive_boxes_dropped": 1,
        "frames_outside_sequence_dropped": 1,
    }
    assert "have no ground truth" in report["warnings"][0]
    (results / "B.txt").write_text("")
    report = score_mot(gt_root, results, MotEvalConfig(hota=False, plots=False))[0].to_json()
    assert (
        report["sequences"]["B"]["clear"]["num_misses"] == 8
        and report["warning_counts"]["empty_result_file"] == 1
    )
    with pytest.raises(InputError, match=r"no ground truth for \['D'\]; sequences here: \['A', 'B'\]"):
        score_mot(gt_root, results, MotEvalConfig(seqs=["A", "D"]))
    (results / "B.txt").rename(results / "B.bak")
    with pytest.raises(InputError, match=r"no result file for requested sequences \['B'\]"):
        score_mot(gt_root, results, MotEvalConfig(seqs=["A", "B"]))
    (results / "B.bak").rename(results / "B.txt")
    (results / "A.txt").write_text("1,7,0,0,10,10,1,-1,-1,-1\n1,7,5,0,10,10,1,-1,-1,-1\n")
    with pytest.raises(InputError, match="A.txt: track id 7 appears twice in frame 1"):
        score_mot(gt_root, results)
    (results / "A.txt").write_text("1,7,0,0,10,10,1,-1,-1,-1\n2,7,zero,0,10,10,1,-1,-1,-1\n")
    with pytest.raises(InputError, match="A.txt:2: "):
        score_mot(gt_root, results)


def test_motmetrics_compat_makes_its_own_helpers_work():
    gt = mm.io.loadtxt(str(TUD / "TUD-Campus" / "gt.txt"), fmt="mot15-2D", min_confidence=1)
    test = mm.io.loadtxt(str(TUD / "TUD-Campus" / "test.txt"), fmt="mot15-2D")
    acc = mm.utils.compare_to_groundtruth(gt, test, "iou", distth=0.5)
    mota = mm.metrics.create().compute(acc, metrics=["mota"], return_dataframe=False)["mota"]
    assert mota == pytest.approx(TUD_EXPECTED["TUD-Campus"][13], abs=1e-6)
