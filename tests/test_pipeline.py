"""``rfv demo`` / ``rfv run`` end to end on a miniature synthetic world: every stage runs and writes what its
own command writes, an unchanged stage is skipped, a changed one re-runs with what follows it, and a run
interrupted mid-training resumes to the same model as an uninterrupted one."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

import reid_from_video.train.run as train_package
from reid_from_video.cli import main
from reid_from_video.core.config import load_config
from reid_from_video.core.layout import RUN_FILE, STAGE_FILE, STAGE_NAMES
from reid_from_video.embed.gate import co_visible_frames
from reid_from_video.embed.source import read_source
from reid_from_video.pipeline.config import PipelineConfig
from reid_from_video.pipeline.stages import STAGES as STAGE_TABLE
from reid_from_video.train.data import load_train_frames
from reid_from_video.train.features import embed_paths

# A 3-camera, 30 s world at 5 fps; 2 training epochs of the tiny CNN at 64 x 32.
MINI = [
    "world.identities=16",
    "world.seconds=30",
    "world.fps=5",
    "world.density=4",
    "world.contact_sheet=false",
    "heldout.identities=12",
    "heldout.seconds=30",
    "heldout.fps=5",
    "heldout.density=4",
    "pipeline.train.epochs=2",
    "pipeline.train.data.iters=6",
    "pipeline.train.data.workers=0",
    "pipeline.train.model.input_size=[64, 32]",
    "pipeline.train.eval.every=1",
    "pipeline.train.tmc.association.cluster.rho=0.05",
    "pipeline.export.batch=4",
]
STAGES = ["track", "mot-eval", "label", "train", "evaluate", "export", "associate"]


def _statuses(run: Path) -> dict[str, str]:
    record = json.loads((run / RUN_FILE).read_text())
    return {row["name"]: row["status"] for row in record["stages"]}


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "train" / "model.pt", weights_only=True)["state_dict"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), *MINI]) == 0
    return out


def test_demo_runs_every_stage_and_reports(demo):
    run = demo / "run"
    assert _statuses(run) == dict.fromkeys(STAGES, "done")
    for stage in STAGES:
        assert json.loads((run / stage / STAGE_FILE).read_text())["status"] == "done"
    assert (run / "track" / "index.csv").is_file() and (run / "label" / "labels.csv").is_file()
    report = json.loads((run / "train" / "train_report.json").read_text())
    assert report["before"]["epoch"] == 0 and report["after"]["epoch"] == 2
    evaluation = json.loads((run / "evaluate" / "evaluate.json").read_text())
    assert evaluation["model"] == str(run / "train" / "model.pt") and evaluation["valid_queries"] > 0
    assert str(demo / "heldout" / "mars") in evaluation["source"]
    export = json.loads((run / "export" / "export.json").read_text())
    assert export["formats"]["onnx"]["parity"]["min_cosine"] >= 0.9999
    assert (run / "export" / "model.onnx").is_file()
    html = (run / "report.html").read_text()
    assert "MOTA" in html and "mAP" in html
    associated = json.loads((run / "associate" / "associate.json").read_text())
    assert associated["model"] == str(run / "train" / "model.pt") and associated["identities"] >= 1
    assert (run / "associate" / "identities.html").is_file() and (run / "associate" / "mot").is_dir()
    assert "Identities across cameras" in html and "associate/identities.html" in html
    config = load_config(PipelineConfig, run / "config.yaml")
    assert config.gt == str(demo / "world" / "gt") and config.eval_data == str(demo / "heldout" / "mars")


def test_unchanged_stages_are_skipped_and_a_change_reruns_what_follows(demo, tmp_path):
    out = tmp_path / "demo"
    shutil.copytree(demo, out)
    before = _weights(out / "run")
    assert main(["demo", "--out", str(out), *MINI]) == 0
    assert _statuses(out / "run") == dict.fromkeys(STAGES, "skipped")
    assert main(["demo", "--out", str(out), *MINI, "pipeline.train.epochs=1"]) == 0
    statuses = _statuses(out / "run")
    assert [statuses[s] for s in STAGES] == ["skipped"] * 3 + ["done"] * 4
    after = _weights(out / "run")
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_interrupted_training_resumes_to_the_same_model(demo, tmp_path, monkeypatch):
    out = tmp_path / "demo"
    shutil.copytree(demo, out)
    shutil.rmtree(out / "run")
    real_run_train = train_package.run_train

    class Interrupt(train_package.Hook):
        def after_step(self, trainer) -> None:
            if trainer.position == (1, 3):  # epochs count from 0 here: mid-way through the second
                os.kill(os.getpid(), signal.SIGTERM)  # as `kill` or a job scheduler stops a run

    def interrupted(*args, **kwargs):
        return real_run_train(*args, **kwargs, hooks=[Interrupt()])

    monkeypatch.setattr(train_package, "run_train", interrupted)
    assert main(["demo", "--out", str(out), *MINI]) == 130
    statuses = _statuses(out / "run")
    assert statuses["train"] == "interrupted" and statuses["export"] == "not run"
    monkeypatch.setattr(train_package, "run_train", real_run_train)
    assert main(["demo", "--out", str(out), *MINI]) == 0
    statuses = _statuses(out / "run")
    assert [statuses[s] for s in STAGES] == ["skipped"] * 3 + ["done"] * 4
    expected, resumed = _weights(demo / "run"), _weights(out / "run")
    assert expected.keys() == resumed.keys()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)


def test_training_calibrates_the_trackers_gate_and_re_tracking_with_the_export_uses_it(demo, tmp_path):
    run = demo / "run"
    training = torch.load(run / "train" / "model.pt", weights_only=True)["training"]
    gate = training["appearance_gate"]
    # By hand: the trained network's distances between people seen in one frame of the training cameras.
    frames = load_train_frames(run / "track", run / "label", sub_tracks=True)
    groups = co_visible_frames(frames.camera, frames.frame, frames.unit, gate["frames"])
    network = read_source(run / "train" / "model.pt").model
    distances = []
    for rows in groups:
        features = embed_paths(network, [frames.paths[i] for i in rows], torch.device("cpu"))
        for a, b in itertools.combinations(features, 2):
            distances.append(1.0 - float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b)))
    assert gate["pairs"] == len(distances) and len(groups) == gate["frames"]
    assert gate["max_cosine_distance"] == pytest.approx(np.quantile(distances, 0.01), abs=1e-3)
    report = json.loads((run / "train" / "train_report.json").read_text())
    assert report["appearance_gate"] == gate
    card = json.loads((run / "export" / "model.onnx.json").read_text())
    assert card["appearance_gate"] == gate["max_cosine_distance"]
    # Re-tracking the cameras with the exported model gates with the card's value ...
    settings = ["-c", str(run / "track" / "config.yaml"), f"embedder={run / 'export' / 'model.onnx'}"]
    videos = str(demo / "world" / "videos")
    assert main(["track", videos, "--out", str(tmp_path / "card"), *settings, "progress=false"]) == 0
    summary = json.loads((tmp_path / "card" / "summary.json").read_text())
    used = {(c["appearance_gate"], c["gate_source"]) for c in summary["cameras"]}
    assert used == {(card["appearance_gate"], "model card")}
    # ... unless told to keep tracker.max_cosine_distance.
    keep = [*settings, "embedder.calibrated_gate=false", "tracker.max_cosine_distance=0.25"]
    assert main(["track", videos, "--out", str(tmp_path / "config"), *keep, "progress=false"]) == 0
    summary = json.loads((tmp_path / "config" / "summary.json").read_text())
    used = {(c["appearance_gate"], c["gate_source"]) for c in summary["cameras"]}
    assert used == {(0.25, "tracker.max_cosine_distance")}


def test_the_stage_table_runs_in_the_layout_order():
    assert [stage.name for stage in STAGE_TABLE] == list(STAGE_NAMES) == STAGES


def test_label_and_train_methods_must_agree():
    with pytest.raises(Exception, match="train.method"):
        load_config(PipelineConfig, "taudl", ["label.method=tmc"], stage="pipeline")


def test_missing_camera_folder_is_one_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run")]) == 2
    assert "nowhere" in capsys.readouterr().err
