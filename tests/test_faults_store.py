"""Fault battery, outputs and resume (issue 19 parts 2, 4, 6, 8): one writer per output folder, a killed
writer's lock and temporaries taken over, workers stopped with their parent, and ``rfv track`` resuming
only from results of the same settings and inputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, clear_error

from reid_from_video.cli import main
from reid_from_video.core.lock import LOCK_NAME, output_lock

TRACK = ["detector.backend=bgsub", "embedder.backend=histogram", "progress=false"]
# rfv track with every frame read 0.1 s late: long enough to be caught while it writes. The patch is made
# before the workers fork, so they are slow too.
SLOW_TRACK = (
    "import sys, time\n"
    "from reid_from_video.tracking import camera\n"
    "frames = camera.frames_of\n"
    "camera.frames_of = lambda *a: (time.sleep(0.1) or f for f in frames(*a))\n"
    "from reid_from_video.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def _rfv(*args: str, slow: bool = False) -> subprocess.Popen:
    command = ["-c", SLOW_TRACK] if slow else ["-m", "reid_from_video"]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _consistent(out: Path) -> pd.DataFrame:
    """The store's merged index, after checking that every crop it lists exists and no temporary is left."""
    index = pd.read_csv(out / "index.csv")
    missing = [p for p in index["path"] if not (out / p).is_file()]
    assert not missing, missing[:5]
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    return index


def _track(world: Path, out: Path, *overrides: str) -> tuple[int, str]:
    process = _rfv("track", str(world / "videos"), "--out", str(out), *TRACK, *overrides)
    _, err = process.communicate(timeout=300)
    return process.returncode, err


@pytest.mark.fault("no_data_loss")
def test_two_writers_on_one_store_one_is_refused(small_world: Path, tmp_path: Path):
    out = tmp_path / "store"
    first = _rfv("track", str(small_world / "videos"), "--out", str(out), *TRACK, slow=True)
    _wait_for(lambda: (out / LOCK_NAME).is_file())
    code, err = _track(small_world, out)
    first_out, first_err = first.communicate(timeout=300)
    assert first.returncode == 0, first_err
    clear_error(code, err, str(out), f"in use by pid {first.pid}")
    index = _consistent(out)
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(set(index["camera"])) == ["cam1", "cam2"] == [c["camera"] for c in summary["cameras"]]
    assert len(index) == summary["totals"]["crops"]
    assert not (out / LOCK_NAME).exists()  # released: the folder is as the command writes it


@pytest.mark.fault("no_data_loss")
def test_a_killed_writers_lock_and_temporaries_are_taken_over(small_world: Path, tmp_path: Path):
    out = tmp_path / "store"
    first = _rfv("track", str(small_world / "videos"), "--out", str(out), *TRACK, slow=True)
    _wait_for(lambda: (out / "crops").is_dir())
    first.kill()
    first.wait()
    left = out / "index" / f".cam2.csv.tmp-{first.pid}"  # as if killed while writing it
    left.parent.mkdir(exist_ok=True)
    left.write_text("camera,tr")
    code, err = _track(small_world, out)
    assert code == 0, err
    assert f"taking over the lock left by pid {first.pid}" in err
    index = _consistent(out)
    assert sorted(set(index["camera"])) == ["cam1", "cam2"]


@pytest.mark.fault("clear_error")
@pytest.mark.parametrize("command", ["track", "run", "label", "synth", "demo"])
def test_a_second_writer_of_any_command_is_one_clear_error(small_world, tmp_path, capsys, command):
    out = tmp_path / "out"
    hold = f"with output_lock({str(out)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import time\nfrom reid_from_video.core.lock import output_lock\n{hold}"],
        env=_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        args = {
            "track": ["track", str(small_world / "videos"), *TRACK],
            "run": [
                "run",
                str(small_world / "videos"),
                "-c",
                "taudl",
                "track.detector.backend=bgsub",
                "train.model.weights=none",
            ],
            "label": ["label", str(tmp_path / "store"), "--model", "histogram"],
            "synth": ["synth"],
            "demo": ["demo"],
        }[command]
        code = main([*args, "--out", str(out)])
        clear_error(code, capsys.readouterr().err, str(out), f"in use by pid {holder.pid}")
    finally:
        holder.kill()
        holder.wait()


def test_locks_nest_in_one_process(tmp_path: Path):
    with (
        output_lock(tmp_path / "run"),
        output_lock(tmp_path / "run" / "track"),
        output_lock(tmp_path / "run"),
    ):
        assert (tmp_path / "run" / LOCK_NAME).is_file()
    assert (
        not (tmp_path / "run" / LOCK_NAME).exists() and not (tmp_path / "run" / "track" / LOCK_NAME).exists()
    )


@pytest.mark.fault("no_data_loss")
def test_sigterm_stops_the_workers_of_rfv_track(small_world: Path, tmp_path: Path):
    out = tmp_path / "store"
    parent = _rfv("track", str(small_world / "videos"), "--out", str(out), *TRACK, "workers=2", slow=True)
    _wait_for(lambda: len(_children(parent.pid)) == 2)
    workers = _children(parent.pid)
    _wait_for(lambda: (out / "crops").is_dir())
    parent.send_signal(signal.SIGTERM)
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == 130 and "rfv track: interrupted" in err, err
    assert not [pid for pid in workers if _alive(pid)]
    before = _listing(out)
    time.sleep(1.5)
    assert _listing(out) == before  # nothing written after the parent exited
    assert not (out / "index.csv").exists()  # no camera complete, nothing claims to be
    code, err = _track(small_world, out)  # and the next run is not refused
    assert code == 0, err
    _consistent(out)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.fault("clear_error")
def test_an_error_in_a_worker_is_one_clear_error(tmp_path: Path, capsys):
    """A camera's bad file found inside a worker process (here a malformed det.txt, read by the detector
    the worker builds) reaches the CLI as the error it is."""
    for name, lines in (("SEQ-01", ["1,-1,100,50,40,100,0.9"]), ("SEQ-02", ["1,-1,100,50"])):
        sequence = tmp_path / "mot" / name
        (sequence / "det").mkdir(parents=True)
        (sequence / "seqinfo.ini").write_text(
            f"[Sequence]\nname={name}\nimDir=img1\nframeRate=10\nseqLength=4\nimWidth=640\nimHeight=480\n"
        )
        (sequence / "det" / "det.txt").write_text("\n".join(lines) + "\n")
    args = ["track", str(tmp_path / "mot"), "--out", str(tmp_path / "out"), "-c", "mot17", "progress=false"]
    code = main([*args, "workers=2"])
    clear_error(code, capsys.readouterr().err, str(tmp_path / "mot" / "SEQ-02" / "det" / "det.txt"))


# ---------------------------------------------------------------------------------------------- resume


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.mark.fault("clear_error")
def test_a_changed_config_is_refused_naming_the_keys(small_world: Path, tmp_path: Path, capsys):
    out = tmp_path / "store"
    assert main(["track", str(small_world / "videos"), "--out", str(out), *TRACK]) == 0
    config, index = (out / "config.yaml").read_text(), (out / "index.csv").read_text()
    capsys.readouterr()
    code = main(["track", str(small_world / "videos"), "--out", str(out), *TRACK, "tracker.max_age=5"])
    clear_error(code, capsys.readouterr().err, str(out), "tracker.max_age", "overwrite=true")
    assert (out / "config.yaml").read_text() == config  # still the config the outputs were made with
    assert (out / "index.csv").read_text() == index


@pytest.mark.fault("handled")
def test_overwrite_tracks_again_with_the_new_config(small_world: Path, tmp_path: Path):
    out = tmp_path / "store"
    assert main(["track", str(small_world / "videos"), "--out", str(out), *TRACK]) == 0
    changed = [*TRACK, "crops.size=[16, 32]", "overwrite=true"]
    assert main(["track", str(small_world / "videos"), "--out", str(out), *changed]) == 0
    assert [c["camera"] for c in _summary(out)["cameras"]] == ["cam1", "cam2"]
    assert "- 16\n" in (out / "config.yaml").read_text()
    index = _consistent(out)
    import cv2

    assert cv2.imread(str(out / index["path"].iloc[0])).shape == (32, 16, 3)


@pytest.mark.fault("no_silent_wrong")
def test_a_partial_run_then_another_config_does_not_mix(small_world: Path, tmp_path: Path, capsys):
    out = tmp_path / "store"
    assert main(["track", str(small_world / "videos"), "--out", str(out), *TRACK, "cameras=[cam1]"]) == 0
    capsys.readouterr()
    code = main(["track", str(small_world / "videos"), "--out", str(out), *TRACK, "detector.score_min=0.5"])
    clear_error(code, capsys.readouterr().err, "cam1", "detector.score_min")
    assert not (out / "index" / "cam2.csv").exists()


@pytest.mark.fault("no_silent_wrong")
def test_a_replaced_video_is_tracked_again(small_world: Path, tmp_path: Path):
    cameras = tmp_path / "cams"
    shutil.copytree(small_world / "videos", cameras)
    out = tmp_path / "store"
    assert main(["track", str(cameras), "--out", str(out), *TRACK]) == 0
    before = (out / "mot" / "cam2.txt").read_text()
    shutil.copy(cameras / "cam1.mp4", cameras / "cam2.mp4")  # another recording under the same name
    assert main(["track", str(cameras), "--out", str(out), *TRACK]) == 0
    summary = _summary(out)
    assert [c["camera"] for c in summary["cameras"]] == ["cam2"] and summary["skipped_complete"] == ["cam1"]
    after = (out / "mot" / "cam2.txt").read_text()
    assert after != before and after == (out / "mot" / "cam1.txt").read_text()


@pytest.mark.fault("no_silent_wrong")
def test_the_summary_of_a_resumed_run_covers_every_camera(small_world: Path, tmp_path: Path):
    out = tmp_path / "store"
    assert main(["track", str(small_world / "videos"), "--out", str(out), *TRACK, "cameras=[cam1]"]) == 0
    first = _summary(out)["cameras"][0]
    assert main(["track", str(small_world / "videos"), "--out", str(out), *TRACK]) == 0
    summary = _summary(out)
    assert [c["camera"] for c in summary["cameras"]] == ["cam2"]
    assert summary["earlier"] == [first]
    index = _consistent(out)
    assert summary["store_totals"]["cameras"] == 2 and summary["store_totals"]["crops"] == len(index)


@pytest.mark.fault("no_data_loss")
def test_a_checkpoint_temporary_of_a_killed_run_is_removed(mars_world: Path, tmp_path: Path):
    out = tmp_path / "train"
    out.mkdir()
    left = out / f".checkpoint.pt.tmp-{_dead_pid()}"  # a SIGKILL during a checkpoint write leaves this
    left.write_bytes(b"half a checkpoint")
    small = ["model.backbone=tiny", "model.weights=none", "model.input_size=[64, 32]", "data.workers=0"]
    args = ["train", str(mars_world / "mars"), "--out", str(out), *small, "threads=1", "progress=false"]
    assert main([*args, "method=taudl", "epochs=1", "data.iters=1", "data.p=12", "eval.before=false"]) == 0
    assert not left.exists() and (out / "model.pt").is_file()


@pytest.mark.fault("no_silent_wrong")
def _one_sequence(tmp_path: Path) -> tuple[Path, list[str]]:
    """A MOT tree of one 8-frame sequence without images, its det.txt, and the `rfv track` arguments that
    track it (precomputed detections, the mot17 preset) into ``tmp_path / "out"``."""
    dets = tmp_path / "det.txt"
    dets.write_text("\n".join(f"{k},-1,{100 + 4 * k},50,40,100,0.9" for k in range(1, 9)) + "\n")
    sequence = tmp_path / "mot" / "SEQ-01"
    sequence.mkdir(parents=True)
    (sequence / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=img1\nframeRate=10\nseqLength=8\nimWidth=640\nimHeight=480\n"
    )
    args = ["track", str(tmp_path / "mot"), "--out", str(tmp_path / "out"), "-c", "mot17", "progress=false"]
    return dets, [*args, f"detector.source={dets}"]


def test_a_file_the_config_names_replaced_in_place_is_not_resumed(tmp_path: Path, capsys):
    """A model or detection file given by path counts by its content: the same path with other content
    is another config (here one det.txt for every sequence, as detector.source)."""
    dets, args = _one_sequence(tmp_path)
    assert main(args) == 0
    dets.write_text("1,-1,10,10,40,100,0.9\n")
    capsys.readouterr()
    clear_error(main(args), capsys.readouterr().err, "detector.source", "overwrite=true")


def test_a_store_of_an_older_rfv_resumes_when_its_missing_keys_are_at_their_defaults(tmp_path: Path, capsys):
    """A record written before an option existed lacks its key: the camera was tracked as the option's
    default (new options keep the old behaviour as default), so it is resumed; any other value is refused."""
    _, args = _one_sequence(tmp_path)
    out = tmp_path / "out"
    assert main(args) == 0
    record = out / "cameras" / "SEQ-01.json"
    data = json.loads(record.read_text())
    del data["settings"]["tracker.matching"]  # as an rfv before the option wrote it
    record.write_text(json.dumps(data))
    assert main(args) == 0
    assert _summary(out)["skipped_complete"] == ["SEQ-01"]
    capsys.readouterr()
    clear_error(main([*args, "tracker.matching=global"]), capsys.readouterr().err, "tracker.matching")
