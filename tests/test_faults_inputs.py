"""The fault battery's input cases (issue 19): damaged videos keep true frame numbers, implausible rates,
unwritable outputs, duplicate gt ids, bad configs and real files the readers were too strict for."""

from __future__ import annotations

import builtins
import errno
import json
import logging
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
from conftest import clear_error, need
from test_labels_tmc import write_mars_info

from reid_from_video.cli import COMMANDS, main
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
@pytest.mark.parametrize("start", [21, 58, 62, 70, 79, 80, 81, 90])  # before, at and after the damage
def test_damaged_video_with_stride_and_time_range(tmp_path: Path, start: int):
    path = write_numbered(tmp_path / "cam.avi", 120)
    overwrite_middle(path, 20_000)
    (camera,) = discover_cameras(path)
    frames = list(iter_frames(camera, stride=3, start_s=camera.time_of(start), end_s=11.0))
    assert frames and all(shown_number(f.image) == f.index for f in frames)
    assert all((f.index - start) % 3 == 0 and start <= f.index <= 110 for f in frames)


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


class _DroppingCapture:
    """A capture whose demuxer dropped frames 4 and 5 without a word: grabs count on, timestamps jump."""

    def __init__(self, stamps_ms: list[float]):
        self.stamps, self.at = stamps_ms, -1

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FPS: 10.0, cv2.CAP_PROP_POS_MSEC: self.stamps[self.at]}.get(prop, 0.0)

    def grab(self) -> bool:
        self.at += 1
        return self.at < len(self.stamps)

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, numbered_frame(round(self.stamps[self.at] / 100) + 1)

    def release(self) -> None:
        pass


@pytest.mark.fault("no_silent_wrong")
def test_frames_dropped_by_the_demuxer_are_a_gap_by_their_timestamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    (camera,) = discover_cameras(write_numbered(tmp_path / "cam.mp4", 9, "mp4v"))
    stamps = [0.0, 100.0, 200.0, 500.0, 600.0, 700.0, 800.0]
    monkeypatch.setattr("reid_from_video.io.video._open_video", lambda path: _DroppingCapture(stamps))
    reader = iter_frames(camera)
    with caplog.at_level(logging.WARNING, logger="reid_from_video.io.video"):
        frames = list(reader)
    assert [f.index for f in frames] == [1, 2, 3, 6, 7, 8, 9]
    assert all(shown_number(f.image) == f.index for f in frames) and reader.gaps == [(4, 5)]
    assert "cam.mp4: frames 4-5 skipped: missing from the decoded stream (a gap)" in caplog.text


@pytest.mark.fault("no_silent_wrong")
def test_damaged_middle_of_an_mp4_keeps_true_frame_numbers(tmp_path: Path):
    path = write_numbered(tmp_path / "cam.mp4", 120, "mp4v")
    overwrite_middle(path, 20_000)
    (camera,) = discover_cameras(path)
    frames = list(iter_frames(camera))
    # Frames that refer to damaged ones show what the decoder made of them; from the next key frame on,
    # every frame is the file's frame of that number.
    assert frames[-1].index == 120 and all(shown_number(f.image) == f.index for f in frames if f.index > 80)
    assert all(shown_number(f.image) <= f.index for f in frames)


@pytest.mark.fault("clear_error")
@pytest.mark.parametrize("fps", ["1e-300", "1e9"])
def test_implausible_configured_fps_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture, fps: str):
    code = main(["inspect", str(write_numbered(tmp_path / "cam.avi", 3)), f"video.fps={fps}"])
    clear_error(code, capsys.readouterr().err, "config video:", "is not a camera's frame rate")


@pytest.mark.fault("clear_error")
def test_implausible_seqinfo_frame_rate_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture):
    gt, _ = _mot_sequence(tmp_path, _walkers())
    seqinfo = gt / "S1" / "seqinfo.ini"
    seqinfo.write_text(seqinfo.read_text().replace("frameRate=10", "frameRate=250000"))
    code = main(["inspect", str(gt)])
    clear_error(code, capsys.readouterr().err, seqinfo, "frameRate")


@pytest.mark.fault("clear_error")
@pytest.mark.parametrize("fps", [1e-300, 1e9])
def test_implausible_sidecar_fps_is_refused(tmp_path: Path, fps: float):
    path = write_numbered(tmp_path / "cam.avi", 3)
    (tmp_path / "cam.json").write_text(f'{{"fps": {fps!r}}}')
    with pytest.raises(InputError, match=r"cam\.json: fps .* is not a camera's frame rate"):
        discover_cameras(path)


# ------------------------------------------------------------------------------------- unwritable outputs

# Each command's arguments besides --out: inputs that need not exist, since the output is checked first.
ARGUMENTS = {
    "track": ["cams"], "mot-eval": ["gt", "res"], "synth": [], "export": ["model.pt"], "demo": [],
    "embed": ["crops", "--model", "m.onnx"], "label": ["store"], "train": ["data"],
    "evaluate": ["data", "--features", "f.npy"], "inspect": ["cam.avi"], "simulate": ["mars"],
    "report": ["run"], "run": ["cams"], "associate": ["store", "--model", "histogram"],
    "search": ["store", "--query", "q.jpg", "--model", "histogram"],
}  # fmt: skip


def test_every_command_is_in_the_unwritable_output_battery():
    assert sorted(ARGUMENTS) == sorted(COMMANDS)


@pytest.mark.fault("clear_error")
@pytest.mark.parametrize("name", sorted(ARGUMENTS))
def test_output_under_a_file_is_one_clear_error(name: str, tmp_path: Path, capsys: pytest.CaptureFixture):
    # A path whose parent is a file cannot be written even by root, for whom chmod stops nothing.
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "sub"
    code = main([name, *ARGUMENTS[name], "--out", str(out)])
    clear_error(code, capsys.readouterr().err, out, "is a file, not a folder")


@pytest.mark.fault("clear_error")
def test_output_folder_that_is_a_file_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture):
    out = tmp_path / "taken"
    out.write_text("a file")
    code = main(["inspect", str(write_numbered(tmp_path / "cam.avi", 3)), "--out", str(out)])
    clear_error(code, capsys.readouterr().err, out, "it is a file, not a folder")
    assert out.read_text() == "a file"


@pytest.mark.fault("clear_error")
def test_output_without_permission_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    real_access = os.access
    # root may write anywhere: make the check see what another user would
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    code = main(["inspect", str(write_numbered(tmp_path / "cam.avi", 3)), "--out", str(locked / "out")])
    clear_error(code, capsys.readouterr().err, locked, "permission denied")


def _disk_full(*args: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.fault("clear_error")
def test_full_disk_is_one_clear_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    video = write_numbered(tmp_path / "cam.avi", 3)
    monkeypatch.setattr(os, "fsync", _disk_full)
    code = main(["inspect", str(video), "--out", str(tmp_path / "out")])
    clear_error(code, capsys.readouterr().err, tmp_path / "out", "No space left on device")
    assert not list((tmp_path / "out").glob(".*tmp*"))  # no temporary file left behind


@pytest.mark.fault("clear_error")
def test_full_disk_while_writing_crops_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    video = write_numbered(tmp_path / "cam.avi", 10)
    monkeypatch.setattr(Path, "write_bytes", _disk_full)
    monkeypatch.setattr(os, "fsync", _disk_full)
    code = main(["track", str(video), "-c", "synth", "--out", str(tmp_path / "out"), "progress=false"])
    clear_error(code, capsys.readouterr().err, tmp_path / "out", "No space left on device")


# ---------------------------------------------------------------------------------------- ground truth


def _mot_sequence(root: Path, gt_rows: list[str]) -> tuple[Path, Path]:
    seq = root / "gt" / "S1"
    (seq / "gt").mkdir(parents=True)
    (seq / "gt" / "gt.txt").write_text("\n".join(gt_rows) + "\n")
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=S1\nimDir=img1\nframeRate=10\nseqLength=20\nimWidth=320\nimHeight=240\n"
    )
    (root / "res").mkdir()
    (root / "res" / "S1.txt").write_text(
        "".join(f"{f},1,{10 + f},10,20,40,1,-1,-1,-1\n" for f in range(1, 21))
    )
    return root / "gt", root / "res"


def _walkers() -> list[str]:
    return [f"{f},{i},{10 + f + 90 * i},10,20,40,1,1,1.0" for f in range(1, 21) for i in (1, 2)]


@pytest.mark.fault("clear_error")
def test_duplicate_gt_id_in_a_frame_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture):
    gt, results = _mot_sequence(tmp_path, [*_walkers(), "15,1,200,50,20,40,1,1,1.0"])
    code = main(["mot-eval", str(gt), str(results)])
    clear_error(
        code, capsys.readouterr().err, gt / "S1" / "gt" / "gt.txt", "gt id 1 occurs twice in frame 15"
    )


@pytest.mark.fault("clear_error")
def test_negative_gt_width_is_refused_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture):
    # A wrong reference cannot be scored: TrackEval would take the negative area as it is, dropping the box
    # would change the count of gt boxes. Refuse, naming the line.
    rows = _walkers()
    rows[6] = "4,1,14,10,-20,40,1,1,1.0"
    gt, results = _mot_sequence(tmp_path, rows)
    code = main(["mot-eval", str(gt), str(results)])
    clear_error(code, capsys.readouterr().err, f"{gt / 'S1' / 'gt' / 'gt.txt'}:7", "positive width")


# -------------------------------------------------------------------------------------- config and reads


@pytest.mark.fault("clear_error")
def test_one_image_batches_are_refused_naming_the_keys(tmp_path: Path, capsys: pytest.CaptureFixture):
    code = main(["train", str(tmp_path), "--out", str(tmp_path / "t"), "data.p=1", "data.k=1"])
    clear_error(code, capsys.readouterr().err, "config data:", "p=1, k=1")


@pytest.mark.fault("clear_error")
def test_eps_that_cannot_be_found_names_the_full_key(tmp_path: Path, capsys: pytest.CaptureFixture):
    mars = write_mars_info(tmp_path / "mars", identities=6, cameras=2, seed=4)
    assert main(["simulate", str(mars), "--out", str(tmp_path / "sim")]) == 0
    rows = len((tmp_path / "sim" / "index.csv").read_text().splitlines()) - 1
    np.save(tmp_path / "f.npy", np.ones((rows, 8), np.float32))  # every distance 0: no data-dependent eps
    args = [
        "label",
        str(tmp_path / "sim"),
        "--out",
        str(tmp_path / "l"),
        "--features",
        str(tmp_path / "f.npy"),
    ]
    code = main([*args, "tmc.isolation.enabled=false"])
    clear_error(code, capsys.readouterr().err, "tmc.association.cluster.eps")


@pytest.mark.fault("clear_error")
def test_video_without_read_permission_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    video = write_numbered(tmp_path / "cam.avi", 3)
    video.chmod(0)
    real_open = builtins.open

    def as_another_user(file, *args, **kwargs):  # root reads whatever the mode says: deny it here
        if Path(str(file)) == video:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("reid_from_video.io.video.open", as_another_user, raising=False)
    code = main(["inspect", str(video)])
    err = capsys.readouterr().err
    clear_error(code, err, video, "permission denied")
    assert "corrupt" not in err


# ------------------------------------------------------------------------------- real files, other names


def _xmars(root: Path) -> Path:
    """The MARS protocol files with X-MARS's variable names."""
    mars = write_mars_info(root, identities=6, cameras=2, seed=4)
    info = mars / "info"
    for name, variable in [
        ("tracks_train_info", "track_train_info"),
        ("tracks_test_info", "track_test_info"),
        ("query_IDX", "query_IDX"),
    ]:
        array = scipy.io.loadmat(info / f"{name}.mat")[variable]
        scipy.io.savemat(info / f"{name}.mat", {f"xmars_{name}": array})
    return mars


@pytest.mark.fault("handled")
def test_xmars_protocol_files_are_read_by_shape(tmp_path: Path, capsys: pytest.CaptureFixture):
    mars = _xmars(tmp_path / "xmars")
    assert main(["inspect", str(mars)]) == 0
    assert main(["simulate", str(mars), "--out", str(tmp_path / "sim")]) == 0
    assert (tmp_path / "sim" / "index.csv").is_file()


@pytest.mark.fault("clear_error")
def test_protocol_file_without_one_fitting_array_names_the_variables(
    tmp_path: Path, capsys: pytest.CaptureFixture
):
    mars = _xmars(tmp_path / "xmars")
    rows = scipy.io.loadmat(mars / "info" / "tracks_train_info.mat")["xmars_tracks_train_info"]
    path = mars / "info" / "tracks_train_info.mat"
    scipy.io.savemat(path, {"first": rows, "second": rows})
    code = main(["inspect", str(mars)])
    clear_error(code, capsys.readouterr().err, path, "track_train_info", "first", "second")


def _mot_tree(root: Path) -> tuple[Path, Path]:
    gt, results = _mot_sequence(root, _walkers())
    other = gt / "S2"  # a sequence folder whose gt is not there (a test split's)
    other.mkdir()
    (other / "seqinfo.ini").write_text((gt / "S1" / "seqinfo.ini").read_text().replace("S1", "S2"))
    return gt, results


@pytest.mark.fault("handled")
def test_mot_eval_of_named_sequences_ignores_folders_without_gt(
    tmp_path: Path, capsys: pytest.CaptureFixture
):
    gt, results = _mot_tree(tmp_path)
    assert main(["mot-eval", str(gt), str(results), "seqs=[S1]"]) == 0


@pytest.mark.fault("handled")
def test_mot_eval_of_a_tree_skips_folders_without_gt_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    gt, results = _mot_tree(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert main(["mot-eval", str(gt), str(results), "--out", str(tmp_path / "eval")]) == 0
    assert "1 sequence folders without gt/gt.txt are not evaluated: ['S2']" in caplog.text


@pytest.mark.fault("clear_error")
def test_mot_eval_of_a_named_sequence_without_gt_names_it(tmp_path: Path, capsys: pytest.CaptureFixture):
    gt, results = _mot_tree(tmp_path)
    code = main(["mot-eval", str(gt), str(results), "seqs=[S2]"])
    clear_error(code, capsys.readouterr().err, gt / "S2", "without gt/gt.txt")


@pytest.mark.fault("handled")
def test_inspect_reports_the_gaps_of_a_damaged_video(tmp_path: Path):
    path = write_numbered(tmp_path / "cam.avi", 120)
    overwrite_middle(path, 20_000)
    assert main(["inspect", str(path), "--out", str(tmp_path / "i"), "decode=true"]) == 0
    (camera,) = json.loads((tmp_path / "i" / "inspect.json").read_text())["cameras"]
    (first, last) = camera["gaps"][0]
    assert first < 64 <= last and camera["frames_decoded"] == 120 - (last - first + 1)
