"""MARS loader: the real protocol files (structure only) and a tiny synthetic MARS tree with images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
from conftest import need

from reid_from_video.core.errors import InputError
from reid_from_video.io.mars import frames_table, load_mars, mars_name, parse_mars_name, summary

# --- the real MARS info files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(shared_data):
    info = need(shared_data, "mars/info")
    return info, load_mars(info)


def test_real_counts(real):
    _, ds = real
    counts = summary(ds)
    assert counts["train_tracklets"] == 8298
    assert counts["train_identities"] == 625
    assert counts["train_identity_cameras"] == 1955
    assert counts["test_tracklets"] == 12180
    assert counts["queries"] == 1980
    assert counts["gallery"] == 12180
    assert counts["train_frames"] == ds.train["end"].max()  # rows cover the whole name list
    assert counts["test_frames"] == ds.test["end"].max()
    assert counts["test_junk_tracklets"] > 0 and counts["test_distractor_tracklets"] > 0
    assert not ds.has_images and "paths" not in ds.train


def test_real_rows_equal_mat(real):
    info, ds = real
    for split in ("train", "test"):
        rows = scipy.io.loadmat(info / f"tracks_{split}_info.mat")[f"track_{split}_info"]
        table = getattr(ds, split)
        np.testing.assert_array_equal(table[["start", "end", "pid", "camera"]].to_numpy(), rows)
        assert table["tracklet"].tolist() == list(range(len(rows)))
    assert ds.train.iloc[0][["start", "end", "pid", "camera"]].tolist() == [1, 16, 1, 1]


def test_real_query_zero_based(real):
    info, ds = real
    raw = scipy.io.loadmat(info / "query_IDX.mat")["query_IDX"].ravel()
    np.testing.assert_array_equal(ds.query, raw.astype(np.int64) - 1)
    assert ds.query.min() >= 0 and ds.query.max() < len(ds.test)
    # Official queries are real people, never junk or distractors.
    assert (ds.test["pid"].iloc[ds.query] > 0).all()


def test_real_track_no_consistent(real):
    _, ds = real
    for table in (ds.train, ds.test):
        ordered = table.sort_values("start")
        expected = ordered.groupby(["pid", "camera"]).cumcount() + 1
        assert (ordered["track_no"] == expected).all()


def test_real_frames_table(real):
    _, ds = real
    frames = frames_table(ds.train)
    assert len(frames) == ds.train["n_frames"].sum()
    assert frames["image"].tolist()[:17] == list(range(1, 18))
    assert frames["frame"].tolist()[15:18] == [16, 1, 2]  # tracklet 0 has 16 frames


# --- a tiny synthetic MARS ----------------------------------------------------------------------------------

# (pid, camera, T number, frames) per split, in name order. Person 1 camera 1 has T0001 and T0003: the loader
# reads 3 from the names, and can only derive 2 without them.
TRAIN = [(1, 1, 1, 3), (1, 1, 3, 2), (1, 2, 1, 2), (2, 1, 1, 2)]
TEST = [(-1, 1, 1, 2), (0, 3, 1, 1), (3, 1, 1, 2), (3, 2, 1, 3), (4, 6, 2, 2)]
QUERY = [3, 5]  # 1-based test rows


def _name(pid: int, camera: int, track: int, frame: int) -> str:
    pid4 = "00-1" if pid == -1 else f"{pid:04d}"
    return f"{pid4}C{camera}T{track:04d}F{frame:03d}.jpg"


def make_mars(root: Path, images: bool = True, name_lists: bool = True) -> Path:
    """Write a tiny MARS tree under ``root``: info .mat files, and optionally name lists and JPEG images."""
    info = root / "info"
    info.mkdir(parents=True)
    tile = np.full((8, 4, 3), 128, dtype=np.uint8)
    for split, tracklets in (("train", TRAIN), ("test", TEST)):
        names, rows = [], []
        for pid, camera, track, n in tracklets:
            rows.append([len(names) + 1, len(names) + n, pid, camera])
            names += [_name(pid, camera, track, f) for f in range(1, n + 1)]
        assert names == sorted(names)  # MARS's name lists are sorted
        scipy.io.savemat(info / f"tracks_{split}_info.mat", {f"track_{split}_info": np.array(rows, np.int32)})
        if name_lists:
            (info / f"{split}_name.txt").write_text("\n".join(names) + "\n")
        if images:
            for name in names:
                folder = root / f"bbox_{split}" / name[:4]
                folder.mkdir(parents=True, exist_ok=True)
                assert cv2.imwrite(str(folder / name), tile)
    scipy.io.savemat(info / "query_IDX.mat", {"query_IDX": np.array([QUERY], np.uint16)})
    return root


@pytest.fixture
def tree(tmp_path):
    return make_mars(tmp_path / "mars")


def _assert_full(ds, root: Path) -> None:
    assert ds.has_images and ds.root == root
    assert ds.train["track_no"].tolist() == [t[2] for t in TRAIN]
    assert ds.test["track_no"].tolist() == [t[2] for t in TEST]
    assert ds.train["pid"].tolist() == [1, 1, 1, 2]
    assert ds.test["pid"].tolist() == [-1, 0, 3, 3, 4]
    for table, tracklets in ((ds.train, TRAIN), (ds.test, TEST)):
        for paths, (pid, camera, track, n) in zip(table["paths"], tracklets, strict=True):
            assert [Path(p).name for p in paths] == [_name(pid, camera, track, f) for f in range(1, n + 1)]
            assert all(Path(p).is_file() for p in paths)
    assert Path(ds.test["paths"][0][0]) == root / "bbox_test" / "00-1" / "00-1C1T0001F001.jpg"


def test_full_tree_with_name_lists(tree):
    ds = load_mars(tree)
    _assert_full(ds, tree)
    np.testing.assert_array_equal(ds.query, [2, 4])
    np.testing.assert_array_equal(ds.gallery, np.arange(5))


def test_full_tree_names_from_files(tree):
    for split in ("train", "test"):
        (tree / "info" / f"{split}_name.txt").unlink()
    _assert_full(load_mars(tree), tree)


def test_info_folder_as_root(tree):
    ds = load_mars(tree / "info")
    _assert_full(ds, tree)


def test_structure_only(tmp_path):
    root = make_mars(tmp_path / "mars", images=False, name_lists=False)
    ds = load_mars(root)
    assert not ds.has_images and "paths" not in ds.train and "paths" not in ds.test
    assert ds.train["track_no"].tolist() == [1, 2, 1, 1]  # derived: rank by start within (pid, camera)
    assert ds.test["track_no"].tolist() == [1, 1, 1, 1, 1]
    columns = ["tracklet", "pid", "camera", "start", "end", "n_frames", "track_no", "split"]
    assert ds.train.columns.tolist() == columns
    assert ds.train["n_frames"].tolist() == [3, 2, 2, 2]


def test_frames_table_paths(tree):
    ds = load_mars(tree)
    frames = frames_table(ds.train)
    assert len(frames) == 9
    assert frames["frame"].tolist() == [1, 2, 3, 1, 2, 1, 2, 1, 2]
    assert frames["image"].tolist() == list(range(1, 10))
    assert frames["tracklet"].tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3]
    assert [Path(p).name for p in frames["path"]][3] == "0001C1T0003F001.jpg"
    assert (frames["split"] == "train").all()


def test_summary_synthetic(tree):
    counts = summary(load_mars(tree))
    assert counts["train_tracklets"] == 4 and counts["train_identities"] == 2
    assert counts["train_identity_cameras"] == 3 and counts["train_frames"] == 9
    assert counts["test_tracklets"] == 5 and counts["test_identities"] == 2  # 3 and 4; not 0 nor -1
    assert counts["test_junk_tracklets"] == 1 and counts["test_distractor_tracklets"] == 1
    assert counts["queries"] == 2 and counts["query_identities"] == 2 and counts["test_frames"] == 10


# --- parse_mars_name ----------------------------------------------------------------------------------------


def test_mars_name_round_trip():
    for pid, camera, track, frame in [(1, 1, 2, 3), (-1, 6, 10, 120), (1500, 3, 1234, 7)]:
        name = mars_name(pid, camera, track, frame)
        assert name == _name(pid, camera, track, frame)
        assert parse_mars_name(name) == (pid, camera, track, frame)


def test_parse_mars_name():
    assert parse_mars_name("0001C1T0002F003.jpg") == (1, 1, 2, 3)
    assert parse_mars_name("00-1C6T0010F120.jpg") == (-1, 6, 10, 120)
    assert parse_mars_name("bbox_test/0000/0000C3T0001F001.jpg") == (0, 3, 1, 1)


@pytest.mark.parametrize("name", ["0001C1T0002.jpg", "001C1T0002F003.jpg", "0001C1T0002F003.png", "x", ""])
def test_parse_mars_name_malformed(name):
    with pytest.raises(ValueError, match="not a MARS image name"):
        parse_mars_name(name)


# --- bad input ----------------------------------------------------------------------------------------------


def _rewrite_rows(root: Path, split: str, edit) -> None:
    path = root / "info" / f"tracks_{split}_info.mat"
    key = f"track_{split}_info"
    rows = scipy.io.loadmat(path)[key].astype(np.int64)
    edit(rows)
    scipy.io.savemat(path, {key: rows})


def _raises(root: Path, path_name: str, match: str) -> InputError:
    with pytest.raises(InputError, match=match) as caught:
        load_mars(root)
    assert caught.value.path.name == path_name
    return caught.value


def test_missing_root(tmp_path):
    with pytest.raises(InputError, match="MARS folder not found"):
        load_mars(tmp_path / "nowhere")


def test_missing_info_folder(tmp_path):
    _raises(tmp_path, "info", "info folder not found")


def test_missing_mat_file(tree):
    (tree / "info" / "query_IDX.mat").unlink()
    _raises(tree, "query_IDX.mat", "file not found")


def test_unreadable_mat(tree):
    (tree / "info" / "tracks_test_info.mat").write_text("not a mat file")
    _raises(tree, "tracks_test_info.mat", "cannot read")


def test_wrong_mat_key(tree):
    scipy.io.savemat(tree / "info" / "tracks_train_info.mat", {"tracks": np.ones((2, 4))})
    _raises(tree, "tracks_train_info.mat", r"no variable 'track_train_info' \(found \['tracks'\]\)")


def test_wrong_mat_shape(tree):
    scipy.io.savemat(tree / "info" / "tracks_train_info.mat", {"track_train_info": np.ones((2, 3))})
    _raises(tree, "tracks_train_info.mat", r"expected N x 4 rows")


def test_start_after_end(tree):
    _rewrite_rows(tree, "train", lambda rows: rows.__setitem__((1, 0), 9))
    _raises(tree, "tracks_train_info.mat", r"row 2: start 9 > end 5")


def test_camera_out_of_range(tree):
    _rewrite_rows(tree, "test", lambda rows: rows.__setitem__((2, 3), 7))
    _raises(tree, "tracks_test_info.mat", r"row 3: camera 7 is outside 1..6")


def test_overlapping_rows(tree):
    _rewrite_rows(tree, "train", lambda rows: rows.__setitem__((1, 0), 3))
    _raises(tree, "tracks_train_info.mat", r"rows 1 and 2 overlap")


def test_row_beyond_name_list(tree):
    _rewrite_rows(tree, "train", lambda rows: rows.__setitem__((3, 1), 12))
    _raises(tree, "tracks_train_info.mat", r"row 4: end 12 is beyond the 9 image names")


def test_name_disagrees_with_row(tree):
    _rewrite_rows(tree, "train", lambda rows: rows.__setitem__((3, 2), 5))  # row 4 is person 2 in its names
    error = _raises(tree, "tracks_train_info.mat", r"row 4 is person 5 camera 1, but its image 8 ")
    assert "0002C1T0001F001.jpg is person 2 camera 1" in error.problem


def test_name_disagrees_with_row_from_files(tree):
    for split in ("train", "test"):
        (tree / "info" / f"{split}_name.txt").unlink()
    _rewrite_rows(tree, "test", lambda rows: rows.__setitem__((3, 3), 3))  # row 4 is camera 2 in its names
    _raises(tree, "tracks_test_info.mat", r"row 4 is person 3 camera 3, but its image 6 .*bbox_test")


def test_malformed_name_in_list(tree):
    names = tree / "info" / "train_name.txt"
    lines = names.read_text().splitlines()
    lines[4] = "garbage.jpg"
    names.write_text("\n".join(lines))
    error = _raises(tree, "train_name.txt", "not a MARS image name")
    assert error.line == 5


def test_empty_image_folder(tmp_path):
    root = make_mars(tmp_path / "mars", images=False, name_lists=False)
    (root / "bbox_train").mkdir()
    _raises(root, "bbox_train", "no .jpg images")


@pytest.mark.parametrize("bad", [0, 6])
def test_query_out_of_range(tree, bad):
    scipy.io.savemat(tree / "info" / "query_IDX.mat", {"query_IDX": np.array([[1, bad]])})
    _raises(tree, "query_IDX.mat", rf"query 2 is test row {bad}, outside 1..5")
