"""The fault battery's input cases (issue 19): damaged videos keep true frame numbers, implausible rates,
unwritable outputs, duplicate gt ids, bad configs and real files the readers were too strict for."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import need

from reid_from_video.core.errors import InputError
from reid_from_video.io.video import discover_cameras, iter_frames

BITS = 10  # a synthetic frame shows its number as BITS black or white blocks, 16 px wide


def numbered_frame(k: int, width: int = 160, height: int = 96) -> np.ndarray:
    image = np.random.default_rng(k).integers(0, 255, (height, width, 3), dtype=np.uint8)  # big chunks
    for bit in range(BITS):
        image[:32, bit * 16 : (bit + 1) * 16] = 255 if k >> bit & 1 else 0
    return image


def shown_number(image: np.ndarray) -> int:
    return sum(1 << bit for bit in range(BITS) if image[8:24, bit * 16 + 4 : bit * 16 + 12].mean() > 128)


def write_numbered(path: Path, frames: int, fourcc: str = "MJPG") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (160, 96))
    assert writer.isOpened(), f"cannot write {path}"
    for k in range(1, frames + 1):
        writer.write(numbered_frame(k))
    writer.release()
    return path


def overwrite_middle(path: Path, nbytes: int, seed: int = 1) -> None:
    data = bytearray(path.read_bytes())
    start = len(data) // 2
    data[start : start + nbytes] = np.random.default_rng(seed).integers(0, 256, nbytes, np.uint8).tobytes()
    path.write_bytes(bytes(data))


@pytest.mark.fault("no_silent_wrong")
@pytest.mark.parametrize("fourcc", ["MJPG", "XVID"])
def test_damaged_middle_of_a_video_keeps_true_frame_numbers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fourcc: str
):
    path = write_numbered(tmp_path / "cam.avi", 120, fourcc)
    overwrite_middle(path, 20_000)  # the demuxer loses a few frame chunks and resyncs after them
    (camera,) = discover_cameras(path)
    reader = iter_frames(camera)
    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        frames = list(reader)
    assert [f.index for f in frames if shown_number(f.image) != f.index] == []
    assert frames[-1].index == 120 and len(reader.gaps) == 1
    first, last = reader.gaps[0]
    assert [f.index for f in frames] == [k for k in range(1, 121) if not first <= k <= last]
    assert f"{path}: frames {first}-{last} skipped: damaged in the file (a gap)" in caplog.text


@pytest.mark.fault("no_silent_wrong")
def test_damaged_video_with_stride_and_time_range(tmp_path: Path):
    path = write_numbered(tmp_path / "cam.avi", 120)
    overwrite_middle(path, 20_000)
    (camera,) = discover_cameras(path)
    frames = list(iter_frames(camera, stride=3, start_s=2.0, end_s=11.0))
    assert frames and all(shown_number(f.image) == f.index for f in frames)
    assert all((f.index - 21) % 3 == 0 and 21 <= f.index <= 110 for f in frames)


@pytest.mark.fault("no_silent_wrong")
def test_damaged_video_without_index_stops_at_the_damage(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    path = write_numbered(tmp_path / "cam.avi", 120)
    data = path.read_bytes()
    data = data[: data.rindex(b"idx1")]  # a recording cut before its index was written...
    path.write_bytes(data)
    overwrite_middle(path, 20_000)  # ...and damaged: nothing says which frame follows the damage
    (camera,) = discover_cameras(path)
    reader = iter_frames(camera)
    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        frames = list(reader)
    assert frames and all(shown_number(f.image) == f.index for f in frames)
    (first, last) = reader.gaps[0]
    assert last == 120 and frames[-1].index < first
    assert "after damage in the file, not read" in caplog.text


@pytest.mark.fault("no_silent_wrong")
def test_truncated_numbered_video_keeps_true_numbers(tmp_path: Path):
    path = write_numbered(tmp_path / "cam.avi", 60)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    (camera,) = discover_cameras(path)
    frames = list(iter_frames(camera))
    assert 30 < len(frames) < 60 and all(shown_number(f.image) == f.index for f in frames)


@pytest.mark.fault("no_silent_wrong")
def test_damaged_real_video_keeps_true_frame_numbers(shared_data: Path, tmp_path: Path):
    original = need(shared_data, "video/pets09_s2l1_view1.avi")
    path = tmp_path / "pets.avi"
    shutil.copyfile(original, path)
    overwrite_middle(path, 200_000, seed=0)  # the demuxer drops 66 frames here

    def small(image: np.ndarray) -> np.ndarray:
        return cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (64, 48)).astype(np.float32)

    truth = {f.index: small(f.image) for f in iter_frames(discover_cameras(original)[0], stride=5)}
    (camera,) = discover_cameras(path)
    reader = iter_frames(camera, stride=5)
    frames = list(reader)
    assert frames[-1].index == 791 and len(reader.gaps) == 1
    # Frames whose data the damage did not reach (or reached only through one B-frame) are the original's.
    errors = {f.index: float(np.abs(small(f.image) - truth[f.index]).mean()) for f in frames}
    assert max(errors.values()) < 2.0 and sum(e > 0.05 for e in errors.values()) <= 1


@pytest.mark.fault("clear_error")
@pytest.mark.parametrize("fps", [1e-300, 1e9])
def test_implausible_sidecar_fps_is_refused(tmp_path: Path, fps: float):
    path = write_numbered(tmp_path / "cam.avi", 3)
    (tmp_path / "cam.json").write_text(f'{{"fps": {fps!r}}}')
    with pytest.raises(InputError, match=r"cam\.json: fps .* is not a camera's frame rate"):
        discover_cameras(path)
