"""``rfv train`` end to end on the synthetic world's MARS export: both methods with the MARS presets,
exact resume after a crash, DDP (2 processes, gloo) against 1 process, and the data errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from reid_from_video.cli import main
from reid_from_video.core.config import load_config
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.io.mars import load_mars
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.data import camera_local_labels, load_train_frames
from reid_from_video.train.hooks import Hook
from reid_from_video.train.run import run_train

# A tiny network on tiny images, so that an epoch takes about a second on one CPU thread.
SMALL = [
    "model.backbone=tiny",
    "model.weights=none",
    "model.input_size=[64, 32]",
    "data.workers=0",
    "threads=1",
    "progress=false",
]


@pytest.fixture
def world(mars_world: Path) -> Path:
    """The shared tiny 3-camera world with its MARS-layout export (read only)."""
    return mars_world


def _config(*overrides: str, preset: str | None = None) -> TrainConfig:
    return load_config(TrainConfig, preset, [*SMALL, *overrides], stage="train")


def _steps(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "steps.csv")


def test_taudl_mars_preset_trains_and_evaluates_on_a_mars_tree(world, tmp_path):
    out = tmp_path / "taudl"
    args = ["train", str(world / "mars"), "--out", str(out), "-c", "taudl_mars", *SMALL]
    assert (
        main([*args, "epochs=2", "data.p=12", "data.iters=3", "eval.every=1", f"eval.data={world / 'mars'}"])
        == 0
    )
    epochs = pd.read_csv(out / "epochs.csv")
    assert epochs["epoch"].tolist() == [0, 1, 2]  # 0: the untrained network
    assert epochs["mAP"].notna().all() and epochs["rank1"].between(0, 100).all()
    steps = _steps(out)
    assert len(steps) == 6 and {"pctd", "ccta"} <= set(steps.columns)
    model = torch.load(out / "model.pt", weights_only=True)
    assert model["training"]["method"] == "taudl" and model["model"]["backbone"] == "tiny"
    # One classifier branch per camera, sized by its tracklets (every MARS tracklet its own label).
    sizes = [model["state_dict"][f"classifier.branches.{i}.weight"].shape[0] for i in range(3)]
    train = load_mars(world / "mars").train
    assert sizes == train.groupby("camera").size().tolist()


def test_tmc_mars_preset_runs_simulate_label_train(world, tmp_path):
    noisy, labels, out = tmp_path / "noisy", tmp_path / "labels", tmp_path / "tmc"
    assert main(["simulate", str(world / "mars"), "--out", str(noisy), "-c", "mars_2.5_1.5"]) == 0
    rho = "tmc.association.cluster.rho=0.05"  # a 16-person world has far more same-identity pairs than MARS
    label = ["label", str(noisy), "--out", str(labels), "-c", "tmc_mars", "--model", "histogram", rho]
    assert main([*label, "tmc.isolation.min_samples=2"]) == 0
    train = ["train", str(noisy), "--out", str(out), "--labels", str(labels), "-c", "tmc_mars", *SMALL]
    assert main([*train, "epochs=2", "data.iters=3", rho, "eval.before=false"]) == 0
    steps = _steps(out)
    assert {"id", "soft_id", "triplet", "soft_triplet"} <= set(steps.columns)
    assert len(steps) == 6 and steps["loss"].notna().all()
    epochs = pd.read_csv(out / "epochs.csv")
    assert (epochs["assoc_labels"] >= 2).all()  # re-associated before every epoch
    sub_tracks = pd.read_csv(labels / "sub_tracks.csv")
    frames = load_train_frames(noisy, labels, sub_tracks=True)
    assert len(frames) == len(sub_tracks)  # trained on the isolated sub-tracklets
    assert frames.num_units == len(sub_tracks.groupby(["camera", "track", "sub_track"]))


@pytest.mark.parametrize("killed_at", [(1, 3), (1, 1)])  # resumed at batch 2 / at the epoch's start
def test_a_run_killed_mid_epoch_resumes_to_the_same_model(world, tmp_path, killed_at):
    overrides = ["method=tmc", "epochs=2", "data.iters=4", "save_every=2", "tmc.association.cluster.rho=0.05"]
    overrides += ["tmc.association.cluster.min_samples=2", "eval.before=false"]
    config = _config(*overrides)
    whole = run_train(world / "mars", tmp_path / "whole", config).to_json()

    class Killed(Exception):
        pass

    class Kill(Hook):
        def after_step(self, trainer) -> None:
            if trainer.position == killed_at:  # (epoch, batches done); checkpoints: every epoch, at batch 2
                raise Killed

    with pytest.raises(Killed):
        run_train(world / "mars", tmp_path / "resumed", config, hooks=[Kill()])
    resumed = run_train(world / "mars", tmp_path / "resumed", config).to_json()
    a = torch.load(tmp_path / "whole" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    pd.testing.assert_frame_equal(_steps(tmp_path / "whole"), _steps(tmp_path / "resumed"))
    assert whole["final_loss"] == resumed["final_loss"]
    # The same command again on a finished run: nothing is trained, the model stays.
    again = run_train(world / "mars", tmp_path / "resumed", config).to_json()
    assert again["epochs"] == 2


def test_a_checkpoint_of_another_config_is_not_resumed(world, tmp_path):
    run_train(
        world / "mars", tmp_path / "run", _config("method=taudl", "epochs=1", "data.iters=1", "data.p=12")
    )
    with pytest.raises(ConfigError, match="different training config"):
        run_train(
            world / "mars",
            tmp_path / "run",
            _config("method=taudl", "epochs=1", "data.iters=1", "data.p=12", "optim.lr=1e-2"),
        )


def _torchrun(nproc: int, args: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc)]
    launcher += ["--master_port", str(29500 + os.getpid() % 1000 + nproc)]
    command = (
        [*launcher, "-m", "reid_from_video", *args]
        if nproc > 1
        else [sys.executable, "-m", "reid_from_video", *args]
    )
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("method", ["taudl", "tmc"])
def test_two_processes_follow_the_one_process_loss_curve(world, tmp_path, method):
    """Same global batch (2 x 24 images vs 48): gathered losses and global batch norm make the curves agree
    to float reordering (measured: 8e-6 relative); the tolerance 1e-4 is far below the step-to-step change."""
    common = ["train", str(world / "mars"), *SMALL, f"method={method}", "epochs=2", "data.iters=3"]
    common += ["data.p=12", "eval.before=false", "tmc.association.cluster.rho=0.05"]
    common += ["tmc.association.cluster.min_samples=2"]
    _torchrun(1, [*common, "--out", str(tmp_path / "one")])
    _torchrun(2, [*common, "--out", str(tmp_path / "two")])
    one, two = _steps(tmp_path / "one"), _steps(tmp_path / "two")
    assert len(one) == len(two) == 6
    torch.testing.assert_close(
        torch.tensor(two["loss"].to_numpy()), torch.tensor(one["loss"].to_numpy()), rtol=1e-4, atol=1e-5
    )
    assert (one["loss"].diff().abs().iloc[1:] > 1e-3).any()  # the curve moves: the test could fail
    report = pd.read_json(tmp_path / "two" / "train_report.json", typ="series")
    assert report["processes"] == 2


def test_tmc_without_sub_tracks_names_the_missing_file(world, tmp_path):
    (tmp_path / "labels").mkdir()
    with pytest.raises(InputError, match="sub_tracks.csv"):
        load_train_frames(world / "mars", tmp_path / "labels", sub_tracks=True)


def test_taudl_labels_must_be_per_camera(world, tmp_path):
    train = load_mars(world / "mars").train
    one_per_camera = train.groupby("camera").first().reset_index()  # a tracklet of each camera
    table = pd.DataFrame(
        {
            "camera": [f"c{c}" for c in one_per_camera["camera"]],
            "track": one_per_camera["tracklet"],
            "label": 5,
        }
    )
    table.to_csv(tmp_path / "labels.csv", index=False)
    frames = load_train_frames(world / "mars", tmp_path / "labels.csv", sub_tracks=False)
    assert set(frames.camera[frames.label == 5].tolist()) == {0, 1, 2}
    with pytest.raises(InputError, match="label 5 spans several cameras"):
        camera_local_labels(frames)


def test_amp_off_reads_as_a_mode_not_a_boolean():
    assert _config("amp=off").amp == "off" and _config("amp=bf16").amp == "bf16"
    with pytest.raises(ConfigError, match="amp must be one of"):
        _config("amp=fp8")


def test_cross_camera_share_by_hand():
    from reid_from_video.labels.quality import cross_camera_share

    # label 0 in cameras 0 and 1, label 1 in camera 2 only, label 2 twice in camera 0; one dropped unit.
    labels = np.array([0, 0, 1, 2, 2, -1])
    cameras = np.array([0, 1, 2, 0, 0, 1])
    assert cross_camera_share(labels, cameras) == pytest.approx(1 / 3)
    assert cross_camera_share(np.full(3, -1), np.zeros(3, int)) == 0.0


def test_passes_without_gradients_run_on_their_own_threads_and_give_trainings_back(tmp_path):
    """train.threads=1 keeps the steps exact; TMC's association and the hooks embed on inference_threads
    (here 2) and hand torch back its 1 thread. Features agree with the one-thread pass."""
    import cv2

    from reid_from_video.models.config import ModelConfig
    from reid_from_video.models.reid_net import build_model
    from reid_from_video.train.features import embed_paths

    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        path = tmp_path / f"crop{i}.jpg"
        cv2.imwrite(str(path), rng.integers(0, 255, (128, 64, 3), dtype=np.uint8))
        paths.append(str(path))
    torch.manual_seed(0)
    model = build_model(ModelConfig(backbone="tiny", weights="none", input_size=[128, 64]), num_classes=3)
    seen: list[int] = []
    model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = embed_paths(model, paths, torch.device("cpu"), batch_size=4, threads=1)
        two = embed_paths(model, paths, torch.device("cpu"), batch_size=4, threads=2)
        assert seen == [1, 1, 2, 2] and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert one.shape == (6, model.feature_dim)
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-6)


def test_on_a_cpu_the_cpu_schedule_replaces_epochs_and_iters(world, tmp_path, capsys):
    schedule = ["epochs=9", "data.iters=7", "cpu_schedule.epochs=2", "cpu_schedule.iters=3"]
    config = _config("method=taudl", "data.p=12", *schedule)
    result = run_train(world / "mars", tmp_path / "cpu", config, labels=None).to_json()
    assert result["epochs"] == 2
    assert len(_steps(tmp_path / "cpu")) == 2 * 3  # 3 batches an epoch, not 7
    said = capsys.readouterr().out
    assert "training on the CPU: 2 epochs of 3 batches (cpu_schedule) instead of 9 epochs of 7" in said
    saved = load_config(TrainConfig, str(tmp_path / "cpu" / "config.yaml"), [], stage="train")
    assert (saved.epochs, saved.data.iters) == (2, 3)  # the config it trained with


def test_the_cpu_schedule_leaves_a_gpu_and_unset_keys_alone():
    config = _config("epochs=40", "data.iters=400", "cpu_schedule.epochs=5")
    assert config.on_device("cuda") is config
    assert (config.on_device("cpu").epochs, config.on_device("cpu").data.iters) == (5, 400)
    unset = _config("epochs=40", "data.iters=400")
    assert unset.on_device("cpu") is unset  # rfv train's default: the same schedule everywhere
    applied = config.on_device("cpu")
    assert applied.on_device("cpu") is applied  # the effective config it saves trains the same, unannounced
    with pytest.raises(ConfigError, match="cpu_schedule"):
        _config("cpu_schedule.iters=-1")


@pytest.mark.parametrize("preset", ["tmc", "taudl"])
def test_rfv_runs_presets_train_minutes_on_a_cpu_and_the_papers_schedule_on_a_gpu(preset):
    from reid_from_video.pipeline.config import PipelineConfig

    train = load_config(PipelineConfig, preset, [], stage="pipeline").train
    gpu, cpu = train.on_device("cuda"), train.on_device("cpu")
    assert (gpu.epochs, gpu.data.iters) == ((40, 400) if preset == "tmc" else (50, 0))
    images = cpu.epochs * cpu.data.iters * cpu.data.p * cpu.data.k
    assert 10_000 <= images <= 16_000  # ~10 min of OSNet-x0.25 on 2 cores (bench_adaptation --scale cpu)
