"""``rfv track executor=ray`` (issue 21): the cameras as Ray tasks on a local Ray instance give the files a
local run gives, resume as a local run does, and a failing camera stops the run with its error."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_track import _config, _write_video

from reid_from_video.core.errors import OutputError
from reid_from_video.tracking.run import run_track

ray = pytest.importorskip("ray")

RAY = ["executor=ray", "ray.cpus_per_camera=1"]


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray_cameras")
    for name in ("a", "b", "c"):
        _write_video(folder / f"{name}.avi", frames=16)
    return folder


def test_ray_tasks_write_what_local_workers_write_and_resume(cameras: Path, tmp_path: Path) -> None:
    run_track(cameras, tmp_path / "local", _config())
    summary = run_track(cameras, tmp_path / "ray", _config(*RAY)).to_json()  # starts and stops local Ray
    assert [c["camera"] for c in summary["cameras"]] == ["a", "b", "c"]
    assert not ray.is_initialized()
    for name in ("a", "b", "c"):
        ours = (tmp_path / "ray" / "mot" / f"{name}.txt").read_text()
        assert ours == (tmp_path / "local" / "mot" / f"{name}.txt").read_text() and ours
    assert (tmp_path / "ray" / "index.csv").read_text() == (tmp_path / "local" / "index.csv").read_text()
    again = run_track(cameras, tmp_path / "ray", _config(*RAY)).to_json()
    assert again["cameras"] == [] and again["skipped_complete"] == ["a", "b", "c"]
    # how the cameras ran is no part of their results: the local run resumes the Ray one
    assert run_track(cameras, tmp_path / "ray", _config()).to_json()["skipped_complete"] == ["a", "b", "c"]


def test_a_failing_camera_task_stops_the_run_with_its_error(cameras: Path, tmp_path: Path) -> None:
    """Camera b's MOT file cannot be written (a folder stands in its place): the task fails inside Ray, and
    the run raises that error (as the local run would), with Ray stopped and camera b not complete."""
    out = tmp_path / "out"
    (out / "mot" / "b.txt").mkdir(parents=True)
    with pytest.raises(OutputError, match="b.txt: cannot write") as caught:
        run_track(cameras, out, _config(*RAY))
    assert "Traceback" not in str(caught.value)  # the task's error itself, not Ray's wrapper
    assert not ray.is_initialized()
    assert not (out / "index" / "b.csv").exists()
