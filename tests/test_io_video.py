"""Camera discovery and frame iteration (io.video): real video and MOT frames, then synthetic cameras."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import need

from reid_from_video.core.errors import InputError
from reid_from_video.io.config import VideoConfig
from reid_from_video.io.video import DEFAULT_FPS, Camera, Frame, FrameReader, discover_cameras, iter_frames

SIZE = (64, 48)  # width, height of the synthetic frames
STEP = 6  # frame k of a synthetic camera is filled with grey level STEP * k


def write_video(path: Path, frames: int, fps: float = 10.0, size: tuple[int, int] = SIZE) -> Path:
    """An MJPG .avi (always available in opencv-python) whose frame k is uniformly grey STEP * k."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), f"cannot write {path}"
    for k in range(1, frames + 1):
        writer.write(np.full((size[1], size[0], 3), STEP * k, np.uint8))
    writer.release()
    return path


def write_images(folder: Path, names: list[str], size: tuple[int, int] = SIZE) -> Path:
    """One grey image per name, image i (1-based, in list order) of grey level STEP * i."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names, start=1):
        assert cv2.imwrite(str(folder / name), np.full((size[1], size[0], 3), STEP * i, np.uint8))
    return folder


def level(frame: Frame) -> int:
    """Which synthetic frame this is (JPEG moves a uniform grey by a level or two at most)."""
    return round(float(frame.image.mean()) / STEP)


def jpeg_starts(data: bytes) -> list[int]:
    """Offsets of the JPEG start-of-image markers, one per frame in an MJPG file."""
    return [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]


# ------------------------------------------------------------------------------------------------ real data


def test_real_video_discovery_stride_seek_and_full_pass(shared_data: Path):
    path = need(shared_data, "video/pets09_s2l1_view1.avi")
    cameras = discover_cameras(path)
    assert len(cameras) == 1
    camera = cameras[0]
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert (camera.name, camera.kind, camera.path) == ("pets09_s2l1_view1", "video", path)
    assert (camera.frame_count, camera.width, camera.height, camera.fps) == (795, 480, 360, fps)
    assert camera.start_time == 0.0 and camera.frames == ()

    reader = iter_frames(camera, stride=50)
    frames = list(reader)
    assert [f.index for f in frames] == list(range(1, 796, 50))
    assert [f.time_s for f in frames] == [(k - 1) / fps for k in range(1, 796, 50)]
    assert all(f.image.shape == (360, 480, 3) and f.image.dtype == np.uint8 for f in frames)
    assert (reader.frames_read, reader.frames_skipped, reader.frames_selected) == (16, 0, 16)

    # One full sequential pass; the frames a seek lands on must be the very same images.
    full = iter_frames(camera)
    kept = {f.index: f.image for f in full if 101 <= f.index <= 105}
    assert (full.frames_read, full.frames_skipped) == (795, 0)
    sought = list(iter_frames(camera, start_s=camera.time_of(101), end_s=camera.time_of(106)))
    assert [f.index for f in sought] == [101, 102, 103, 104, 105]
    assert all(np.array_equal(f.image, kept[f.index]) for f in sought)


def test_real_mot_sequences(shared_data: Path):
    mini = need(shared_data, "mot17/mini")
    cameras = discover_cameras(mini)
    assert [c.name for c in cameras] == ["MOT17-02-FRCNN", "MOT17-04-FRCNN"]
    assert [c.frame_count for c in cameras] == [4, 8]  # what exists, not seqinfo's seqLength (600, 1050)
    for camera in cameras:
        assert (camera.kind, camera.fps, camera.width, camera.height) == ("mot", 30.0, 1920, 1080)
        assert camera.path == mini / camera.name
    assert [index for index, _ in cameras[1].frames] == list(range(1, 9))
    reader = iter_frames(cameras[0])
    frames = list(reader)
    assert [f.index for f in frames] == [1, 2, 3, 4]
    assert [f.time_s for f in frames] == [0.0, 1 / 30, 2 / 30, 3 / 30]
    assert frames[0].image.shape == (1080, 1920, 3)
    assert (reader.frames_read, reader.frames_skipped) == (4, 0)
    assert discover_cameras(mini / "MOT17-04-FRCNN") == [cameras[1]]


# ------------------------------------------------------------------------------------------------ discovery


def test_folder_of_videos_and_image_folders(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    write_video(tmp_path / "gate.avi", 12)
    write_video(tmp_path / "Hall.AVI", 7, fps=5.0)  # extensions are case-insensitive
    write_images(tmp_path / "yard", [f"{k:06d}.png" for k in range(1, 6)])
    (tmp_path / "gate.json").write_text('{"start_time": 3}')  # a sidecar, not a camera
    (tmp_path / "notes.txt").write_text("not a camera")
    (tmp_path / ".hidden.mp4").write_bytes(b"garbage")  # hidden: ignored, so never found unreadable
    (tmp_path / "yard" / "._000001.png").write_bytes(b"macOS resource fork")
    (tmp_path / "empty").mkdir()

    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        cameras = discover_cameras(tmp_path)
    assert [(c.name, c.kind, c.frame_count) for c in cameras] == [
        ("Hall", "video", 7),
        ("gate", "video", 12),
        ("yard", "images", 5),
    ]
    hall, gate, yard = cameras
    assert (gate.fps, hall.fps, yard.fps) == (10.0, 5.0, DEFAULT_FPS)
    assert (gate.start_time, hall.start_time) == (3.0, 0.0)
    assert all((c.width, c.height) == SIZE for c in cameras)
    assert yard.frames == tuple((k, tmp_path / "yard" / f"{k:06d}.png") for k in range(1, 6))
    assert "empty: ignored" in caplog.text  # a sub-folder that is no camera is reported
    assert f"assuming {DEFAULT_FPS:g} fps" in caplog.text


def test_single_video_and_single_image_folder(tmp_path: Path):
    video = write_video(tmp_path / "cam.avi", 3)
    assert [c.name for c in discover_cameras(video)] == ["cam"]
    folder = write_images(tmp_path / "frames", ["a.jpg", "b.jpg"])
    (camera,) = discover_cameras(folder)
    assert (camera.name, camera.kind, camera.frame_count, camera.path) == ("frames", "images", 2, folder)


def test_image_indices_from_numbers_or_natural_order(tmp_path: Path):
    numbered = write_images(tmp_path / "numbered", ["000003.png", "000005.png", "10.png"])
    (camera,) = discover_cameras(numbered, fps=10.0)
    assert [index for index, _ in camera.frames] == [3, 5, 10]  # gaps kept: indices align with annotations
    frames = [(f.index, f.time_s, level(f)) for f in iter_frames(camera)]
    assert frames == [(3, 0.2, 1), (5, 0.4, 2), (10, 0.9, 3)]

    named = write_images(tmp_path / "named", ["frame_2.png", "frame_10.png", "frame_1.png"])
    (camera,) = discover_cameras(named)
    assert [file.name for _, file in camera.frames] == ["frame_1.png", "frame_2.png", "frame_10.png"]
    assert [index for index, _ in camera.frames] == [1, 2, 3]

    zero_based = write_images(tmp_path / "zero", ["0.png", "1.png", "2.png"])
    (camera,) = discover_cameras(zero_based)
    assert [(index, file.name) for index, file in camera.frames] == [(1, "0.png"), (2, "1.png"), (3, "2.png")]


def test_synthetic_mot_sequence(tmp_path: Path):
    seq = tmp_path / "SEQ-01"
    write_images(seq / "img1", ["000001.jpg", "000002.jpg", "000003.jpg"])
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=15\nseqLength=100\nimWidth=64\nimHeight=48\nimExt=.jpg\n"
    )
    (seq / "camera.json").write_text('{"start_time": 60}')
    (camera,) = discover_cameras(seq, fps=99.0)  # seqinfo's frameRate beats the fallback argument
    assert (camera.kind, camera.fps, camera.frame_count, camera.start_time) == ("mot", 15.0, 3, 60.0)
    assert [f.time_s for f in iter_frames(camera)] == [60.0, 60.0 + 1 / 15, 60.0 + 2 / 15]

    full = "[Sequence]\nname=SEQ-01\nframeRate=15\nseqLength=100\n"
    (seq / "seqinfo.ini").write_text(full + "imWidth=1920\nimHeight=1080\n")
    with pytest.raises(InputError, match=r"ini: imWidth x imHeight is 1920x1080 but the frames are 64x48"):
        discover_cameras(seq)
    (seq / "seqinfo.ini").write_text(full + "imWidth=64\nimHeight=48\nimDir=frames\n")
    with pytest.raises(InputError, match=r"frames: the image folder named by seqinfo.ini"):
        discover_cameras(seq)


# ------------------------------------------------------------------------------------------------ sidecars


@pytest.mark.parametrize(
    ("start_time", "expected"),
    [
        (12.5, 12.5),
        ("2024-05-01T08:30:00Z", datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc).timestamp()),
        ("2024-05-01T10:30:00+02:00", datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc).timestamp()),
        ("2024-05-01T08:30:00.250", datetime(2024, 5, 1, 8, 30, 0, 250000, tzinfo=timezone.utc).timestamp()),
    ],
)
def test_sidecar_start_time(tmp_path: Path, start_time: float | str, expected: float):
    folder = write_images(tmp_path / "cam", ["1.png", "2.png"])
    (folder / "camera.json").write_text(json.dumps({"start_time": start_time, "fps": 4}))
    (camera,) = discover_cameras(folder)
    assert (camera.start_time, camera.fps) == (expected, 4.0)
    assert [f.time_s for f in iter_frames(camera)] == [expected, expected + 0.25]


def test_frame_rate_precedence(tmp_path: Path):
    video = write_video(tmp_path / "cam.avi", 3, fps=10.0)
    assert discover_cameras(video, fps=7.0)[0].fps == 10.0  # the file's own rate beats the fallback
    (tmp_path / "cam.json").write_text('{"fps": 12.5}')
    assert discover_cameras(video, fps=7.0)[0].fps == 12.5  # the sidecar beats the file
    folder = write_images(tmp_path / "images", ["1.png"])
    assert discover_cameras(folder, fps=7.0)[0].fps == 7.0  # no rate of its own: the argument
    assert discover_cameras(folder)[0].fps == DEFAULT_FPS
    with pytest.raises(ValueError, match="fps must be a positive number"):
        discover_cameras(folder, fps=0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"start_time": 1,}', r"cam\.json:1: invalid JSON"),
        ("[1, 2]", r"cam\.json: expected a JSON object with the keys start_time, fps"),
        ('{"start": 1}', r"cam\.json: unknown key\(s\) start; valid keys: start_time, fps"),
        ('{"start_time": "yesterday"}', r"start_time 'yesterday' is not an ISO-8601 datetime"),
        ('{"start_time": null}', r"start_time must be seconds or an ISO-8601 datetime string"),
        ('{"fps": -5}', r"cam\.json: fps must be a positive number, got -5"),
    ],
)
def test_malformed_sidecar(tmp_path: Path, content: str, message: str):
    write_video(tmp_path / "cam.avi", 2)
    (tmp_path / "cam.json").write_text(content)
    with pytest.raises(InputError, match=message):
        discover_cameras(tmp_path)


# ------------------------------------------------------------------------------------------------ errors


def test_discovery_errors_name_the_path(tmp_path: Path):
    missing = tmp_path / "nope"
    with pytest.raises(InputError, match=f"^{missing}: no such file or folder$"):
        discover_cameras(missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".DS_Store").write_bytes(b"")
    with pytest.raises(InputError, match=f"^{empty}: empty folder$"):
        discover_cameras(empty)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match=f"^{junk}: no cameras found"):
        discover_cameras(junk)
    with pytest.raises(InputError, match="readme.txt: not a video file"):
        discover_cameras(junk / "readme.txt")


def test_unreadable_videos(tmp_path: Path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(InputError, match=r"garbage\.mp4: cannot open the video"):
        discover_cameras(tmp_path)  # inside a folder of cameras too: the error names the file
    garbage.unlink()
    writer = cv2.VideoWriter(str(tmp_path / "zero.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, SIZE)
    writer.release()
    with pytest.raises(InputError, match=r"zero\.avi: the video has no frames"):
        discover_cameras(tmp_path / "zero.avi")


def test_duplicate_and_ambiguous_cameras(tmp_path: Path):
    write_video(tmp_path / "cam1.mp4", 2)
    write_video(tmp_path / "cam1.avi", 2)
    with pytest.raises(InputError, match=r"two cameras are named 'cam1' \(cam1\.avi and cam1\.mp4\)"):
        discover_cameras(tmp_path)
    (tmp_path / "cam1.mp4").unlink()
    write_images(tmp_path / "CAM1", ["1.png"])  # names collide on case-insensitive file systems
    with pytest.raises(InputError, match="two cameras are named"):
        discover_cameras(tmp_path)
    write_images(tmp_path, ["map.png"])  # a stray image beside cameras: refuse to guess
    with pytest.raises(InputError, match="holds both images and cameras"):
        discover_cameras(tmp_path)


# ------------------------------------------------------------------------------------------------ frames


def test_image_stride_and_time_range(tmp_path: Path):
    folder = write_images(tmp_path / "cam", [f"{k}.png" for k in range(1, 11)])
    (folder / "camera.json").write_text('{"start_time": 100, "fps": 10}')
    (camera,) = discover_cameras(folder)
    reader = iter_frames(camera, stride=2, start_s=100.2, end_s=100.8)  # frames 3..8 are in range
    frames = list(reader)
    assert [(f.index, level(f)) for f in frames] == [(3, 3), (5, 5), (7, 7)]
    assert [f.time_s for f in frames] == [camera.time_of(k) for k in (3, 5, 7)]
    assert (reader.frames_selected, reader.frames_read, reader.frames_skipped) == (3, 3, 0)
    assert list(iter_frames(camera, start_s=200.0)) == []
    assert [f.index for f in iter_frames(camera, end_s=100.0)] == []  # end is exclusive
    assert [f.index for f in iter_frames(camera, end_s=100.05)] == [1]


def test_video_stride_and_time_range(tmp_path: Path):
    (camera,) = discover_cameras(write_video(tmp_path / "cam.avi", 30, fps=10.0))
    reader = iter_frames(camera, stride=3, start_s=1.0, end_s=2.0)  # 1.0 s is frame 11, 2.0 s frame 21
    frames = list(reader)
    assert [(f.index, level(f)) for f in frames] == [(11, 11), (14, 14), (17, 17), (20, 20)]
    assert [f.time_s for f in frames] == [camera.time_of(k) for k in (11, 14, 17, 20)]
    assert (reader.frames_selected, reader.frames_read, reader.frames_skipped) == (4, 4, 0)
    assert [f.index for f in iter_frames(camera, start_s=2.85)] == [30]
    assert list(iter_frames(camera, start_s=3.0)) == []
    assert isinstance(reader, FrameReader)
    assert [f.index for f in reader] == [11, 14, 17, 20]  # a reader can be iterated again


def test_corrupt_and_wrong_size_images_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    folder = write_images(tmp_path / "cam", [f"{k:06d}.jpg" for k in range(1, 7)])
    (folder / "000001.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "000004.jpg").write_bytes(b"")
    write_images(tmp_path / "big", ["x.jpg"], size=(80, 60))
    (tmp_path / "big" / "x.jpg").replace(folder / "000005.jpg")
    (camera,) = discover_cameras(folder)
    assert (camera.width, camera.height, camera.frame_count) == (*SIZE, 6)  # size from the first good frame

    reader = iter_frames(camera)
    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        indices = [f.index for f in reader]
    assert indices == [2, 3, 6]
    assert (reader.frames_read, reader.frames_skipped) == (3, 3)
    messages = [r.getMessage() for r in caplog.records]
    assert any("000001.jpg: frame 1 skipped: the image cannot be decoded" in m for m in messages)
    assert any("000004.jpg: frame 4 skipped" in m for m in messages)
    wrong_size = "000005.jpg: frame 5 skipped: its size 80x60 differs from the camera's 64x48"
    assert any(wrong_size in m for m in messages)

    for k in (2, 3, 5, 6):
        (folder / f"{k:06d}.jpg").write_bytes(b"garbage")
    with pytest.raises(InputError, match="none of the 6 images can be decoded"):
        discover_cameras(folder)


def test_corrupt_video_frame_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = write_video(tmp_path / "cam.avi", 20)
    data = bytearray(path.read_bytes())
    starts = jpeg_starts(data)
    assert len(starts) == 20
    data[starts[7] : starts[8] - 16] = b"A" * (starts[8] - 16 - starts[7])  # frame 8 no longer decodes
    path.write_bytes(bytes(data))
    (camera,) = discover_cameras(path)
    reader = iter_frames(camera)
    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        frames = list(reader)
    assert [f.index for f in frames] == [k for k in range(1, 21) if k != 8]
    assert all(level(f) == f.index for f in frames)  # later frames keep their true index
    assert (reader.frames_read, reader.frames_skipped) == (19, 1)
    assert "cam.avi: frame 8 skipped: undecodable" in caplog.text
    assert "ended early" not in caplog.text

    # With a stride that steps over frame 8 nothing is lost.
    reader = iter_frames(camera, stride=3)
    assert [f.index for f in reader] == [1, 4, 7, 10, 13, 16, 19] and reader.frames_skipped == 0


def test_truncated_video_ends_early(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = write_video(tmp_path / "cam.avi", 40)
    data = path.read_bytes()
    path.write_bytes(data[: jpeg_starts(data)[15] + 50])  # frame 16 is cut, 17..40 are gone
    (camera,) = discover_cameras(path)
    assert camera.frame_count == 40  # what the container announces
    reader = iter_frames(camera)
    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        frames = list(reader)
    assert [f.index for f in frames] == list(range(1, 16))
    assert (reader.frames_read, reader.frames_skipped) == (15, 0)
    ended = [r.getMessage() for r in caplog.records if "ended early" in r.getMessage()]
    assert ended == [
        f"{path}: the video ended early: no frame decodes from frame 16 on (it announces 40 frames)"
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stride": 0}, "stride must be an integer >= 1, got 0"),
        ({"stride": 1.5}, "stride must be an integer >= 1"),
        ({"start_s": 2.0, "end_s": 1.0}, "start_s must be before end_s"),
        ({"start_s": 1.0, "end_s": 1.0}, "start_s must be before end_s"),
        ({"end_s": float("nan")}, "end_s must be a number of seconds"),
    ],
)
def test_bad_selection_is_a_value_error(kwargs: dict, message: str):
    camera = Camera("c", Path("c.avi"), "video", fps=10.0, frame_count=5, width=4, height=4)
    with pytest.raises(ValueError, match=message):
        iter_frames(camera, **kwargs)
    with pytest.raises(ValueError, match=message):
        VideoConfig(**kwargs)
