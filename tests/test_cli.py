"""The `rfv` command line and `rfv inspect`, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import need

from reid_from_video.cli import COMMANDS, main
from reid_from_video.core.config import describe_config
from reid_from_video.io.config import CropConfig
from reid_from_video.io.store import TrackletStore


def write_video(path: Path, frames: int, size: tuple[int, int] = (64, 48), fps: float = 10.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for k in range(frames):
        writer.write(np.full((size[1], size[0], 3), k * 10 % 256, np.uint8))
    writer.release()


def test_console_script_help_lists_the_commands():
    result = subprocess.run(["rfv", "--help"], capture_output=True, text=True, check=True)
    for name in COMMANDS:
        assert name in result.stdout


def test_command_help_explains_every_config_key(capsys: pytest.CaptureFixture[str]):
    for name, cmd in COMMANDS.items():
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        assert exited.value.code == 0
        text = capsys.readouterr().out
        for line in describe_config(cmd.config):
            assert line.split()[0] in text
        assert "--config" in text and "--print-config" in text and "KEY=VALUE" in text


def test_print_config_resolves_file_and_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    file = tmp_path / "c.yaml"
    file.write_text("video:\n  stride: 4\n")
    assert main(["inspect", str(tmp_path), "-c", str(file), "video.end_s=2.5", "--print-config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["video"]["stride"] == 4 and printed["video"]["end_s"] == 2.5
    assert main(["inspect", str(tmp_path), "-c", "inspect", "--print-config"]) == 0  # a preset by name


def test_bad_override_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["inspect", str(tmp_path), "video.strde=2"]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'video.strde'" in err and "video.stride" in err
    assert "Traceback" not in err


def test_inspect_missing_path_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    missing = tmp_path / "nope"
    assert main(["inspect", str(missing)]) == 2
    assert f"{missing}: no such file or folder" in capsys.readouterr().err


def test_inspect_camera_folder_writes_report_and_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    cameras = tmp_path / "cams"
    cameras.mkdir()
    write_video(cameras / "gate.avi", 12)
    write_video(cameras / "hall.avi", 7, fps=5.0)
    out = tmp_path / "out"
    assert main(["inspect", str(cameras), "decode=true", "video.stride=2", "--out", str(out)]) == 0
    report = json.loads((out / "inspect.json").read_text())
    rows = {c["name"]: c for c in report["cameras"]}
    assert set(rows) == {"gate", "hall"}
    assert rows["gate"]["frames"] == 12 and rows["gate"]["fps"] == 10.0 and rows["gate"]["width"] == 64
    assert rows["gate"]["frames_decoded"] == 6 and rows["gate"]["frames_corrupt"] == 0
    assert rows["hall"]["frames_decoded"] == 4 and rows["hall"]["duration_s"] == 1.4
    assert yaml.safe_load((out / "config.yaml").read_text())["video"]["stride"] == 2
    assert "gate" in capsys.readouterr().out


def test_inspect_tracklet_store(tmp_path: Path):
    store = TrackletStore(tmp_path / "store")
    image = np.zeros((100, 100, 3), np.uint8)
    with store.camera_writer("c1", CropConfig()) as writer:
        for frame in (1, 2, 3):
            writer.add(7, frame, 0.0, (10, 10, 20, 40), 1.0, image)
        writer.add(8, 3, 0.0, (10, 10, 20, 40), 1.0, image)
    store.finalize()
    from reid_from_video.inspection import inspect_path

    report = inspect_path(store.root)
    assert report["store"]["cameras"] == {"c1": {"tracks": 2, "crops": 4}}


def test_inspect_real_mot_sequences(shared_data: Path, tmp_path: Path):
    mini = need(shared_data, "mot17/mini")
    out = tmp_path / "out"
    assert main(["inspect", str(mini), "decode=true", "--out", str(out)]) == 0
    report = json.loads((out / "inspect.json").read_text())
    cameras = {c["name"]: c for c in report["cameras"]}
    assert {n: (c["frames"], c["frames_decoded"], c["frames_corrupt"]) for n, c in cameras.items()} == {
        "MOT17-02-FRCNN": (4, 4, 0),
        "MOT17-04-FRCNN": (8, 8, 0),
    }
    assert report["mot"]["MOT17-02-FRCNN"]["frames"] == 600  # seqinfo's full length
    assert report["mot"]["MOT17-02-FRCNN"]["gt"]["boxes"] > 0


def test_inspect_real_mars_info(shared_data: Path):
    from reid_from_video.inspection import inspect_path

    report = inspect_path(need(shared_data, "mars/info"))
    mars = report["mars"]
    assert (mars["train_tracklets"], mars["train_identities"], mars["train_identity_cameras"]) == (
        8298,
        625,
        1955,
    )
    assert (mars["test_tracklets"], mars["queries"]) == (12180, 1980)


def test_trackers_package_never_imports_torch():
    code = "import sys, trackers; assert 'torch' not in sys.modules, 'trackers imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
