"""``rfv track`` end to end: synthetic videos with background subtraction, resume, MOT mode, bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from reid_from_video.core.config import load_config
from reid_from_video.core.errors import InputError
from reid_from_video.io.mot import read_mot
from reid_from_video.io.store import TrackletStore
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track


def _write_video(path: Path, frames: int = 30) -> None:
    """Two coloured "people" walking past each other (not overlapping) on a grey background, 20 fps."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, (320, 240))
    for k in range(frames):
        image = np.full((240, 320, 3), 90, np.uint8)
        cv2.rectangle(image, (10 + 6 * k, 10), (40 + 6 * k, 100), (30, 30, 230), -1)
        cv2.rectangle(image, (280 - 5 * k, 130), (305 - 5 * k, 220), (230, 120, 30), -1)
        writer.write(image)
    writer.release()


def _config(*overrides: str) -> TrackConfig:
    base = [
        "detector.backend=bgsub",
        "detector.bg_min_area=200",
        "detector.nms_iou=null",
        "embedder.backend=histogram",
        "crops.size=[32, 64]",
        "progress=false",
    ]
    return load_config(TrackConfig, None, [*base, *overrides])


def test_track_folder_writes_mot_crops_index_and_resumes(tmp_path: Path):
    cameras = tmp_path / "cams"
    cameras.mkdir()
    for name in ("cam1", "cam2"):
        _write_video(cameras / f"{name}.avi")
    out = tmp_path / "run"
    summary = run_track(cameras, out, _config()).to_json()
    assert [c["camera"] for c in summary["cameras"]] == ["cam1", "cam2"]
    assert set(summary["cameras"][0]["stage_seconds"]) >= {"read", "detect", "embed", "track", "write"}
    table = read_mot(out / "mot" / "cam1.txt")
    assert table["id"].nunique() == 2  # the two walkers, each one track
    assert table.groupby("id").size().min() >= 10  # MOG2 needs a few frames to lose the start ghosts
    index = TrackletStore(out).read_index()
    assert set(index["camera"]) == {"cam1", "cam2"} and len(index) > 40
    crop = cv2.imread(str(out / index["path"].iloc[0]))
    assert crop.shape == (64, 32, 3)
    assert (out / "summary.json").is_file() and (out / "config.yaml").is_file()

    again = run_track(cameras, out, _config()).to_json()  # resume: everything complete, nothing redone
    assert again["cameras"] == [] and again["skipped_complete"] == ["cam1", "cam2"]
    second = run_track(cameras, tmp_path / "shard", _config("shard=2/2")).to_json()
    assert [c["camera"] for c in second["cameras"]] == ["cam2"]


def test_parallel_workers_give_the_same_tracks(tmp_path: Path):
    cameras = tmp_path / "cams"
    cameras.mkdir()
    for name in ("a", "b"):
        _write_video(cameras / f"{name}.avi", frames=12)
    run_track(cameras, tmp_path / "one", _config("save_crops=false"))
    run_track(cameras, tmp_path / "two", _config("save_crops=false", "workers=2"))
    for name in ("a", "b"):
        assert (tmp_path / "one" / "mot" / f"{name}.txt").read_text() == (
            tmp_path / "two" / "mot" / f"{name}.txt"
        ).read_text()


def test_mot_mode_needs_no_frames(tmp_path: Path):
    sequence = tmp_path / "mot" / "SEQ-01"
    (sequence / "det").mkdir(parents=True)
    (sequence / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=10\nseqLength=8\nimWidth=640\nimHeight=480\n"
    )
    lines = [f"{k},-1,{100 + 4 * k},50,40,100,0.9" for k in range(1, 9)]
    (sequence / "det" / "det.txt").write_text("\n".join(lines) + "\n")
    config = load_config(TrackConfig, "mot17", ["progress=false"], stage="track")
    run_track(tmp_path / "mot", tmp_path / "run", config)
    table = read_mot(tmp_path / "run" / "mot" / "SEQ-01.txt")
    assert table["frame"].tolist() == list(range(1, 9))  # back-filled from frame 1
    assert table["id"].nunique() == 1


def test_corrupt_video_and_missing_folder_are_clear_errors(tmp_path: Path):
    bad = tmp_path / "cams"
    bad.mkdir()
    (bad / "broken.mp4").write_bytes(b"not a video at all" * 100)
    with pytest.raises(InputError, match="broken.mp4"):
        run_track(bad, tmp_path / "run", _config())
    with pytest.raises(InputError, match="no such file"):
        run_track(tmp_path / "nowhere", tmp_path / "run", _config())
    assert not (tmp_path / "run" / "summary.json").exists()
