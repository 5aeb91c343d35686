"""MOTChallenge file reading and writing: the real MOT17/MOT15 files, then small hand-made cases."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import need

from reid_from_video.core.errors import InputError
from reid_from_video.io import mot
from reid_from_video.io.mot import (
    DISTRACTOR_CLASSES,
    MOT_COLUMNS,
    SeqInfo,
    distractors,
    empty_table,
    find_sequences,
    infer_kind,
    pedestrians,
    read_mot,
    read_seqinfo,
    write_mot,
    write_seqinfo,
)

DTYPES = {name: np.int64 if name in ("frame", "id", "cls") else np.float64 for name in MOT_COLUMNS}


def non_empty_lines(path: Path) -> int:
    """An independent row count: the lines with something on them."""
    with open(path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def check_layout(table: pd.DataFrame) -> None:
    assert tuple(table.columns) == MOT_COLUMNS
    assert {name: table[name].dtype for name in MOT_COLUMNS} == DTYPES
    assert isinstance(table.index, pd.RangeIndex) and table.index.start == 0


def table(rows: list[tuple]) -> pd.DataFrame:
    """A table from full 9-value rows."""
    frame = pd.DataFrame(rows, columns=list(MOT_COLUMNS))
    return frame.astype(DTYPES)


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


# ---------------------------------------------------------------------------------------- real data


def test_every_mot17_train_gt_and_det(shared_data):
    train = need(shared_data, "mot17/train")
    sequences = find_sequences(train)
    assert len(sequences) == 21
    for name, folder in sequences.items():
        gt_path, det_path = folder / "gt" / "gt.txt", folder / "det" / "det.txt"
        gt, det = read_mot(gt_path), read_mot(det_path)
        for path, rows in ((gt_path, gt), (det_path, det)):
            check_layout(rows)
            assert len(rows) == non_empty_lines(path), path
        assert (gt["frame"] >= 1).all() and (gt["id"] >= 1).all()
        assert set(gt["conf"].unique()) <= {0.0, 1.0}
        assert gt["vis"].between(0, 1).all()
        assert (det["id"] == -1).all() and (det["cls"] == -1).all() and (det["vis"] == -1).all()
        width = len(det_path.read_text().split("\n", 1)[0].split(","))
        assert width == (10 if name.endswith("DPM") else 7), name


def test_known_mot17_values(shared_data):
    folder = need(shared_data, "mot17/train/MOT17-02-DPM")
    gt = read_mot(folder / "gt" / "gt.txt")
    assert gt.iloc[0].tolist() == [1, 1, 912, 484, 97, 109, 0, 7, 1]
    dpm = read_mot(folder / "det" / "det.txt")
    assert dpm.iloc[0].tolist() == [1, -1, 1359.1, 413.27, 120.26, 362.77, 2.3092, -1, -1]
    frcnn = read_mot(need(shared_data, "mot17/train/MOT17-02-FRCNN/det/det.txt"))
    assert frcnn.iloc[0].tolist() == [69, -1, 912.8, 482.9, 97.6, 112.6, 1, -1, -1]


def test_real_files_take_the_fast_path(shared_data, monkeypatch):
    path = need(shared_data, "mot17/train/MOT17-04-DPM/gt/gt.txt")

    def slow(*args):
        raise AssertionError("the line-by-line parser ran on a well-formed file")

    monkeypatch.setattr(mot, "_parse_slow", slow)
    assert len(read_mot(path)) == non_empty_lines(path)


def test_mot17_gt_round_trip(shared_data, tmp_path):
    identical = 0
    for number in ("02", "04", "05", "09", "10", "11", "13"):
        original = need(shared_data, f"mot17/train/MOT17-{number}-DPM/gt/gt.txt")
        gt = read_mot(original)
        write_mot(tmp_path / "gt.txt", gt, kind="gt")
        pd.testing.assert_frame_equal(read_mot(tmp_path / "gt.txt"), gt, check_exact=True)
        # Byte for byte too, except where the original writes a visibility with an exponent (2.6772e-05 in
        # MOT17-02), which we write positionally.
        if "e" not in original.read_text():
            assert (tmp_path / "gt.txt").read_bytes() == original.read_bytes(), original
            identical += 1
    assert identical >= 6


def test_mot17_dpm_det_round_trip(shared_data, tmp_path):
    # DPM scores include values such as -7.7262e-05: written without exponent, read back exactly.
    det = read_mot(need(shared_data, "mot17/train/MOT17-04-DPM/det/det.txt"))
    write_mot(tmp_path / "det.txt", det, kind="det")
    pd.testing.assert_frame_equal(read_mot(tmp_path / "det.txt"), det, check_exact=True)
    assert "e-" not in (tmp_path / "det.txt").read_text()


def test_mot15_gt_has_ten_columns(shared_data):
    path = need(shared_data, "mot15/PETS09-S2L1/gt/gt.txt")
    gt = read_mot(path)
    check_layout(gt)
    assert len(gt) == non_empty_lines(path)
    assert gt.iloc[0].tolist() == [1, 9, 499, 158, 31.03, 75.17, 1, 1, 1]
    assert (gt["cls"] == 1).all() and (gt["vis"] == 1).all()
    assert set(gt["conf"].unique()) == {0.0, 1.0}  # conf as given: PETS09-S2L1 marks 174 boxes 0
    assert len(pedestrians(gt)) == (gt["conf"] == 1).sum()


def test_real_seqinfo(shared_data, tmp_path):
    folder = need(shared_data, "mot17/train/MOT17-02-DPM")
    info = read_seqinfo(folder)
    assert info == SeqInfo(name="MOT17-02-DPM", frame_rate=30, seq_length=600, im_width=1920, im_height=1080)
    assert read_seqinfo(folder / "seqinfo.ini") == info
    write_seqinfo(tmp_path, info)
    assert (tmp_path / "seqinfo.ini").read_bytes() == (folder / "seqinfo.ini").read_bytes()
    pets = read_seqinfo(need(shared_data, "mot15/PETS09-S2L1"))
    assert (pets.frame_rate, pets.seq_length, pets.im_width, pets.im_height) == (7, 795, 768, 576)


def test_deepsort_result_round_trip(shared_data, tmp_path):
    original = need(shared_data, "mot17/trackers/deepsort/MOT17-02-FRCNN.txt")
    result = read_mot(original)
    check_layout(result)
    assert len(result) == non_empty_lines(original)
    assert result.iloc[0].tolist() == [3, 1, 1099.10, 438.54, 41.88, 109.64, 1, -1, -1]
    write_mot(tmp_path / "shortest.txt", result)
    pd.testing.assert_frame_equal(read_mot(tmp_path / "shortest.txt"), result, check_exact=True)
    write_mot(tmp_path / "deepsort.txt", result, decimals=2)
    assert (tmp_path / "deepsort.txt").read_bytes() == original.read_bytes()


# ------------------------------------------------------------------------------------ reading errors

GT_ROW = "1,1,10,20,30,40,1,1,1"


@pytest.mark.parametrize(
    ("name", "text", "line", "problem"),
    [
        ("gt.txt", "1,1,10,20\n", 1, "expected 9 or 10 columns for a gt file, found 4"),
        (
            "gt.txt",
            f"{GT_ROW}\n{GT_ROW}\n2,1,10,20,30,40,1,1\n",
            3,
            "expected 9 columns as on line 1, found 8",
        ),
        ("gt.txt", f"{GT_ROW}\n{GT_ROW},1,1\n", 2, "expected 9 columns as on line 1, found 11"),
        ("det.txt", "1,-1,10,20,30,40,0.9,-1,-1\n", 1, "expected 7 or 10 columns for a det file, found 9"),
        ("res.txt", "1,1,10,20,30\n", 1, "expected 6 to 10 columns for a result file, found 5"),
        ("res.txt", "1,1,10,20,30,40\n\n2,1,abc,20,30,40\n", 3, "not a number: 'abc' (column 3)"),
        ("res.txt", "1,1,10,20,30,40\n1,2,1_0,20,30,40\n", 2, "not a number: '1_0' (column 3)"),
        ("res.txt", "1,1,10,20,nan,40\n", 1, "not a finite number: 'nan' (column 5)"),
        ("res.txt", "1,1,10,,30,40\n", 1, "empty value in column 4"),
        ("res.txt", "1,1,10,20,30,40\n0,2,10,20,30,40\n", 2, "frame must be >= 1, found '0'"),
        ("res.txt", "1.5,1,10,20,30,40\n", 1, "frame must be an integer, found '1.5'"),
        ("res.txt", "1,1,10,20,30,40\n2,2.5,10,20,30,40\n", 2, "id must be an integer, found '2.5'"),
        ("gt.txt", f"{GT_ROW}\n1,2,10,20,30,40,1,1.5,1\n", 2, "class must be an integer, found '1.5'"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, name, text, line, problem):
    path = write_text(tmp_path / name, text)
    with pytest.raises(InputError) as caught:
        read_mot(path)
    assert caught.value.line == line
    assert caught.value.problem == problem
    assert str(caught.value) == f"{path}:{line}: {problem}"


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found") as caught:
        read_mot(tmp_path / "nope.txt")
    assert caught.value.line is None and caught.value.path == tmp_path / "nope.txt"


@pytest.mark.parametrize("text", ["", "\n", "\n  \n\r\n"])
def test_empty_file_gives_empty_table(tmp_path, text):
    empty = read_mot(write_text(tmp_path / "gt.txt", text))
    check_layout(empty)
    assert empty.empty
    check_layout(empty_table())


@pytest.mark.parametrize(
    "text",
    [
        "1,1,10.5,20,30,40,0.9\n\n2,3,11,21,31,41,0.8\n\n",  # blank lines
        "1,1,10.5,20,30,40,0.9\r\n2,3,11,21,31,41,0.8\r\n",  # Windows line ends
        "1,1,10.5,20,30,40,0.9  \n  \n2,3,11,21,31,41,0.8\t\n",  # stray whitespace, blank-looking line
        "1, 1, 10.5, 20, 30, 40, 0.9\n2, 3, 11, 21, 31, 41, 0.8",  # spaces after commas, no final newline
        "1,1,10.5,20,30,40,0.9,\n2,3,11,21,31,41,0.8,\n",  # a trailing comma
        "\ufeff1,1,10.5,20,30,40,0.9\n2,3,11,21,31,41,0.8\n",  # a byte-order mark
    ],
)
def test_tolerated_layouts(tmp_path, text):
    expected = table([(1, 1, 10.5, 20, 30, 40, 0.9, -1, -1), (2, 3, 11, 21, 31, 41, 0.8, -1, -1)])
    pd.testing.assert_frame_equal(read_mot(write_text(tmp_path / "r.txt", text)), expected)


# ----------------------------------------------------------------------------- kinds and column rules


def test_infer_kind():
    assert infer_kind("a/b/gt/gt.txt") == "gt"
    assert infer_kind(Path("det.txt")) == "det"
    assert infer_kind("MOT17-02-FRCNN.txt") == "result"
    assert infer_kind("gt_val_half.txt") == "result"


def test_kind_decides_the_columns(tmp_path):
    seven = "1,-1,10,20,30,40,0.5\n"
    det = read_mot(write_text(tmp_path / "det" / "det.txt", seven))
    assert det.iloc[0].tolist() == [1, -1, 10, 20, 30, 40, 0.5, -1, -1]
    pd.testing.assert_frame_equal(read_mot(write_text(tmp_path / "seq.txt", seven)), det)
    with pytest.raises(InputError, match="for a gt file, found 7"):
        read_mot(write_text(tmp_path / "gt" / "gt.txt", seven))
    # An explicit kind overrides the name.
    pd.testing.assert_frame_equal(read_mot(tmp_path / "gt" / "gt.txt", kind="det"), det)
    with pytest.raises(ValueError, match="kind"):
        read_mot(tmp_path / "seq.txt", kind="tracks")


def test_result_columns(tmp_path):
    six = read_mot(write_text(tmp_path / "a.txt", "4,2,1,2,3,4\n"))
    assert six.iloc[0].tolist() == [4, 2, 1, 2, 3, 4, 1, -1, -1]  # conf defaults to 1
    ten = read_mot(write_text(tmp_path / "b.txt", "4,2,1,2,3,4,0.7,5,6,7\n"))
    assert ten.iloc[0].tolist() == [4, 2, 1, 2, 3, 4, 0.7, -1, -1]  # world coordinates dropped


def test_gt_columns(tmp_path):
    mot17 = read_mot(write_text(tmp_path / "17" / "gt.txt", "3,5,1,2,3,4,0,7,0.25\n"))
    assert mot17.iloc[0].tolist() == [3, 5, 1, 2, 3, 4, 0, 7, 0.25]
    mot15 = read_mot(write_text(tmp_path / "15" / "gt.txt", "3,5,1,2,3,4,1,-4.1,-7.3,0\n"))
    assert mot15.iloc[0].tolist() == [3, 5, 1, 2, 3, 4, 1, 1, 1]  # every MOT15 box: pedestrian, visible


def test_file_order_is_kept(tmp_path):
    text = "5,2,1,1,1,1\n1,9,1,1,1,1\n5,1,1,1,1,1\n"
    assert read_mot(write_text(tmp_path / "r.txt", text))[["frame", "id"]].values.tolist() == [
        [5, 2],
        [1, 9],
        [5, 1],
    ]


# ------------------------------------------------------------------------------------------- writing


def test_write_result_and_decimals(tmp_path):
    rows = table([(1, 3, 10.5, 20, 30.125, 40, 0.9, 1, 0.5), (2, 3, 11, 21, 31, 41, 1, 1, 0.5)])
    write_mot(tmp_path / "r.txt", rows)
    assert (
        tmp_path / "r.txt"
    ).read_text() == "1,3,10.5,20,30.125,40,0.9,-1,-1,-1\n2,3,11,21,31,41,1,-1,-1,-1\n"
    write_mot(tmp_path / "r2.txt", rows, decimals=2)
    assert (tmp_path / "r2.txt").read_text() == (
        "1,3,10.50,20.00,30.12,40.00,0.9,-1,-1,-1\n2,3,11.00,21.00,31.00,41.00,1,-1,-1,-1\n"
    )


def test_write_gt_keeps_class_and_visibility(tmp_path):
    gt = table([(1, 1, 912, 484, 97, 109, 0, 7, 1), (1, 2, 10.5, 20, 30, 40, 1, 1, 0.33276)])
    write_mot(tmp_path / "gt.txt", gt, kind="gt")
    assert (tmp_path / "gt.txt").read_text() == "1,1,912,484,97,109,0,7,1\n1,2,10.5,20,30,40,1,1,0.33276\n"
    pd.testing.assert_frame_equal(read_mot(tmp_path / "gt.txt"), gt, check_exact=True)


def test_shortest_floats_round_trip_exactly(tmp_path):
    values = [1e-05, -7.7262e-05, 1e16, 0.1 + 0.2, 1 / 3, -0.0, 123456.789, 2.5e-10]
    rows = table([(1, i, v, 0, 1, 1, v, -1, -1) for i, v in enumerate(values)])
    write_mot(tmp_path / "r.txt", rows)
    text = (tmp_path / "r.txt").read_text()
    assert "e" not in text
    assert text.split("\n")[0] == "1,0,0.00001,0,1,1,0.00001,-1,-1,-1"
    back = read_mot(tmp_path / "r.txt")
    pd.testing.assert_frame_equal(back, rows, check_exact=True)
    assert np.signbit(back["x"].to_numpy()).tolist() == np.signbit(values).tolist()  # -0.0 stays -0.0


def test_write_accepts_integral_float_frames(tmp_path):
    rows = table([(1, 1, 1, 1, 1, 1, 1, -1, -1)]).astype({"frame": float, "id": float})
    write_mot(tmp_path / "r.txt", rows)
    assert (tmp_path / "r.txt").read_text() == "1,1,1,1,1,1,1,-1,-1,-1\n"


def test_write_empty_table(tmp_path):
    write_mot(tmp_path / "r.txt", empty_table())
    assert (tmp_path / "r.txt").read_bytes() == b""
    assert read_mot(tmp_path / "r.txt").empty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns="vis"), r"lacks the MOT columns \['vis'\]"),
        (lambda t: t.assign(frame=[1.5]), "'frame' holds non-integer values"),
        (lambda t: t.assign(x=[np.nan]), "'x' holds NaN"),
        (lambda t: t.assign(w=["wide"]), "'w' is not numeric"),
    ],
)
def test_bad_table_leaves_target_untouched(tmp_path, change, message):
    target = write_text(tmp_path / "r.txt", "old\n")
    with pytest.raises(ValueError, match=message):
        write_mot(target, change(table([(1, 1, 1, 1, 1, 1, 1, -1, -1)])))
    assert target.read_text() == "old\n"
    with pytest.raises(ValueError):
        write_mot(tmp_path / "new.txt", change(table([(1, 1, 1, 1, 1, 1, 1, -1, -1)])))
    assert sorted(os.listdir(tmp_path)) == ["r.txt"]


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_disk(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_disk)  # fails after the content went to the temporary file
    with pytest.raises(OSError, match="disk full"):
        write_mot(tmp_path / "r.txt", table([(1, 1, 1, 1, 1, 1, 1, -1, -1)]))
    assert os.listdir(tmp_path) == []


def test_write_rejects_bad_arguments(tmp_path):
    rows = table([(1, 1, 1, 1, 1, 1, 1, -1, -1)])
    with pytest.raises(ValueError, match="kind"):
        write_mot(tmp_path / "r.txt", rows, kind="tracks")
    with pytest.raises(ValueError, match="decimals"):
        write_mot(tmp_path / "r.txt", rows, decimals=-1)
    assert not (tmp_path / "r.txt").exists()


# ---------------------------------------------------------------------------------------- gt filters


def test_pedestrians_and_distractors():
    gt = table(
        [
            (1, 1, 0, 0, 1, 1, 1, 1, 1.0),  # 0 scored pedestrian
            (1, 2, 0, 0, 1, 1, 0, 1, 1.0),  # 1 pedestrian not considered
            (1, 3, 0, 0, 1, 1, 0, 2, 1.0),  # 2 person on vehicle
            (1, 4, 0, 0, 1, 1, 0, 3, 1.0),  # 3 car: ignored
            (2, 5, 0, 0, 1, 1, 1, 7, 0.5),  # 4 static person
            (2, 6, 0, 0, 1, 1, 0, 8, 0.5),  # 5 distractor
            (2, 7, 0, 0, 1, 1, 0, 12, 0.5),  # 6 reflection
            (2, 1, 0, 0, 1, 1, 1, 1, 0.0),  # 7 scored pedestrian, fully occluded
        ]
    )
    assert pedestrians(gt).index.tolist() == [0, 7]
    assert distractors(gt).index.tolist() == [2, 4, 5, 6]
    assert set(DISTRACTOR_CLASSES) == {2, 7, 8, 12}
    assert pedestrians(empty_table()).empty and distractors(empty_table()).empty


# ------------------------------------------------------------------------------------------- seqinfo

INFO = SeqInfo(name="CAM-1", frame_rate=25, seq_length=795, im_width=768, im_height=576, im_ext=".png")


def test_seqinfo_round_trip(tmp_path):
    write_seqinfo(tmp_path / "seq", INFO)  # a folder, created
    assert read_seqinfo(tmp_path / "seq") == INFO
    write_seqinfo(tmp_path / "other.ini", INFO)  # an explicit file
    assert read_seqinfo(tmp_path / "other.ini") == INFO
    assert (tmp_path / "seq" / "seqinfo.ini").read_text() == (
        "[Sequence]\nname=CAM-1\nimDir=img1\nframeRate=25\nseqLength=795\nimWidth=768\nimHeight=576\n"
        "imExt=.png\n\n"
    )


def test_seqinfo_optional_keys_default(tmp_path):
    text = "[Sequence]\nname=A\nframeRate=7\nseqLength=10\nimWidth=4\nimHeight=3\n"
    info = read_seqinfo(write_text(tmp_path / "seqinfo.ini", text))
    assert (info.im_dir, info.im_ext) == ("img1", ".jpg")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[Other]\nname=A\n", "no [Sequence] section"),
        ("name=A\n", "not a valid ini file"),
        ("[Sequence]\nname=A\nframeRate=30\nseqLength=600\nimWidth=1920\n", "missing key 'imHeight'"),
        ("[Sequence]\nname=A\nframeRate=29.97\nseqLength=600\nimWidth=1\nimHeight=1\n", "frameRate must be"),
        ("[Sequence]\nname=A\nframeRate=30\nseqLength=abc\nimWidth=1\nimHeight=1\n", "seqLength must be"),
        ("[Sequence]\nname=A\nframeRate=30\nseqLength=600\nimWidth=0\nimHeight=1\n", "imWidth must be"),
    ],
)
def test_seqinfo_errors(tmp_path, text, problem):
    path = write_text(tmp_path / "seqinfo.ini", text)
    with pytest.raises(InputError) as caught:
        read_seqinfo(path)
    assert str(caught.value).startswith(f"{path}: ") and problem in caught.value.problem


def test_seqinfo_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_seqinfo(tmp_path)  # a folder without seqinfo.ini


# ------------------------------------------------------------------------------------ find_sequences


def test_find_sequences(tmp_path):
    write_seqinfo(tmp_path / "train" / "B-seq", INFO)
    write_text(tmp_path / "train" / "A-seq" / "gt" / "gt.txt", f"{GT_ROW}\n")
    (tmp_path / "train" / "not-a-seq" / "img1").mkdir(parents=True)
    write_text(tmp_path / "train" / "notes.txt", "hello\n")
    found = find_sequences(tmp_path / "train")
    assert found == {"A-seq": tmp_path / "train" / "A-seq", "B-seq": tmp_path / "train" / "B-seq"}
    assert list(found) == ["A-seq", "B-seq"]
    assert find_sequences(tmp_path / "train" / "B-seq") == {"B-seq": tmp_path / "train" / "B-seq"}


def test_find_sequences_errors(tmp_path):
    with pytest.raises(InputError, match="no MOTChallenge sequence found"):
        find_sequences(tmp_path)
    with pytest.raises(InputError, match="folder not found"):
        find_sequences(tmp_path / "missing")
    with pytest.raises(InputError, match="not a folder"):
        find_sequences(write_text(tmp_path / "file.txt", "x\n"))
