"""The tracklet store: crops + index, atomic writes, resume, labels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from reid_from_video.core.atomic import atomic_write, write_json
from reid_from_video.core.errors import InputError
from reid_from_video.io.config import CropConfig
from reid_from_video.io.store import INDEX_COLUMNS, TrackletStore, crop_box


def gradient_image(height: int = 120, width: int = 160) -> np.ndarray:
    """An image whose every pixel is distinct, so a crop's content tells where it came from."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.dstack([xs % 256, ys % 256, (xs + ys) % 256]).astype(np.uint8)


def test_crop_box_is_the_padded_clipped_region():
    image = gradient_image()
    np.testing.assert_array_equal(crop_box(image, 10, 20, 30, 40), image[20:60, 10:40])
    # 10% padding of a 30x40 box grows it by 3 px left/right and 4 px top/bottom
    np.testing.assert_array_equal(crop_box(image, 10, 20, 30, 40, padding=0.1), image[16:64, 7:43])
    # clipped at the image border
    np.testing.assert_array_equal(crop_box(image, -5, 100, 20, 50), image[100:120, 0:15])
    assert crop_box(image, 200, 10, 20, 20) is None


def write_camera(store: TrackletStore, camera: str, crop: CropConfig, tracks: dict[int, list[int]]) -> None:
    image = gradient_image()
    with store.camera_writer(camera, crop) as writer:
        for track, frames in tracks.items():
            for frame in frames:
                gt = track * 10 if track % 2 else None
                writer.add(track, frame, frame / 10, (20.0 + track, 10.0, 30.0, 60.0), 0.9, image, gt_id=gt)


def test_write_finalize_and_read_back(tmp_path: Path):
    store = TrackletStore(tmp_path / "store")
    write_camera(store, "cam1", CropConfig(), {1: [1, 2, 3], 2: [2, 3]})
    write_camera(store, "cam2", CropConfig(size=(32, 64), jpeg_quality=90), {5: [7]})
    assert store.complete_cameras() == ["cam1", "cam2"]
    table = store.finalize()
    assert list(table.columns) == list(INDEX_COLUMNS)
    assert len(table) == 6
    again = store.read_index()
    pd.testing.assert_frame_equal(table, again)
    row = again.iloc[0]
    assert (row.camera, row.track, row.frame, row.time_s, row.x, row.w, row.score) == (
        "cam1",
        1,
        1,
        0.1,
        21.0,
        30.0,
        0.9,
    )
    assert row.path == "crops/cam1/1/000001.jpg"
    assert again["gt_id"].tolist()[:5] == [10, 10, 10, pd.NA, pd.NA]
    crop = cv2.imread(str(store.resolve(row.path)))
    assert crop.shape == (60, 30, 3)
    # JPEG is lossy: compare with the source region loosely
    assert np.abs(crop.astype(int) - gradient_image()[10:70, 21:51].astype(int)).mean() < 3
    resized = cv2.imread(str(store.resolve(again.iloc[-1].path)))
    assert resized.shape == (64, 32, 3)


def test_every_kth_crop_and_minimum_height(tmp_path: Path):
    store = TrackletStore(tmp_path)
    image = gradient_image()
    with store.camera_writer("c", CropConfig(every=3, min_height=20)) as writer:
        kept = [writer.add(1, f, 0.0, (0, 0, 20, 40), 1.0, image) for f in range(1, 8)]
        assert kept == [True, False, False, True, False, False, True]
        assert not writer.add(2, 1, 0.0, (0, 0, 20, 10), 1.0, image)  # too low
        assert not writer.add(3, 1, 0.0, (500, 500, 20, 40), 1.0, image)  # outside the image
    assert store.finalize()["frame"].tolist() == [1, 4, 7]


def test_interrupted_camera_stays_incomplete_and_rerun_clears_stale_crops(tmp_path: Path):
    store = TrackletStore(tmp_path)
    image = gradient_image()
    with pytest.raises(RuntimeError, match="boom"), store.camera_writer("cam", CropConfig()) as writer:
        writer.add(9, 1, 0.0, (0, 0, 30, 60), 1.0, image)
        raise RuntimeError("boom")
    assert not store.is_complete("cam")
    assert (tmp_path / "crops/cam/9/000001.jpg").exists()
    with pytest.raises(InputError, match="no complete camera"):
        store.finalize()
    write_camera(store, "cam", CropConfig(), {1: [1]})
    assert store.is_complete("cam")
    assert not (tmp_path / "crops/cam/9").exists()  # the stale crop of the interrupted run is gone
    assert store.finalize()["track"].tolist() == [1]


def test_read_errors_name_the_file(tmp_path: Path):
    store = TrackletStore(tmp_path)
    with pytest.raises(InputError, match="tracklet index not found"):
        store.read_index()
    write_camera(store, "cam", CropConfig(), {1: [1]})
    with pytest.raises(InputError, match="not merged"):
        store.read_index()
    store.index_path.write_text("camera,track\ncam,1\n")
    with pytest.raises(InputError) as caught:
        store.read_index()
    assert str(store.index_path) in str(caught.value) and "lacks columns" in str(caught.value)
    store.index_path.write_text(",".join(INDEX_COLUMNS) + "\ncam,one,1,0,0,0,1,1,1,p,\n")
    with pytest.raises(InputError, match="wrong type"):
        store.read_index()


def test_invalid_camera_names_and_crop_config():
    with pytest.raises(ValueError, match="invalid camera name"):
        TrackletStore("x").camera_writer("a/b")
    with pytest.raises(ValueError, match="every"):
        CropConfig(every=0)
    with pytest.raises(ValueError, match="jpeg_quality"):
        CropConfig(jpeg_quality=0)


def test_labels_round_trip_and_validation(tmp_path: Path):
    store = TrackletStore(tmp_path)
    labels = pd.DataFrame(
        {"camera": ["1", "1", "2"], "track": [4, 4, 4], "sub_track": [0, 1, 0], "label": [0, 1, 0]}
    )
    store.write_labels(labels)
    back = store.read_labels()
    pd.testing.assert_frame_equal(back, labels)
    assert back["camera"].tolist() == ["1", "1", "2"]  # camera names stay strings
    with pytest.raises(InputError, match="appears more than once"):
        store.write_labels(labels.assign(sub_track=0))
    with pytest.raises(InputError, match=r"lacks columns \['label'\]"):
        store.write_labels(labels.drop(columns="label"))
    with pytest.raises(InputError, match="must hold integers"):
        store.write_labels(labels.assign(label=[0.5, 1, 2]))
    pd.testing.assert_frame_equal(store.read_labels(), labels)  # the failed writes left the file intact


def test_atomic_write_leaves_nothing_on_error(tmp_path: Path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(ValueError), atomic_write(target) as handle:
        handle.write("half")
        raise ValueError
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_json_is_strict_with_non_finite_as_null(tmp_path: Path):
    import json

    target = tmp_path / "out.json"
    write_json(target, {"a": float("nan"), "b": [1.5, float("inf")], "c": {"d": (2, -float("inf"))}})
    assert json.loads(target.read_text()) == {"a": None, "b": [1.5, None], "c": {"d": [2, None]}}
    assert target.read_text().endswith("}\n")
