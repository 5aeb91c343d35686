"""The up-front input check (issue 18, part 3): before anything runs, every file and downloadable model name
that a stage reads is looked at, and all that is missing is one error naming each full config key and what
to give. The network is never touched: the hub-cache lookup, ultralytics' places and the probe are replaced.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import need

import reid_from_video.detect.inputs as detect_inputs
import reid_from_video.models.inputs as model_inputs
from reid_from_video.cli import main
from reid_from_video.commands import COMMANDS
from reid_from_video.core.config import PRESETS_DIR, config_to_dict, load_config
from reid_from_video.core.errors import MissingInputsError
from reid_from_video.core.inputs import reachable
from reid_from_video.detect.config import DetectorConfig
from reid_from_video.detect.inputs import detector_inputs
from reid_from_video.models.config import ModelConfig
from reid_from_video.models.inputs import model_inputs as check_model
from reid_from_video.pipeline.config import PipelineConfig
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.run import run_train

YOLO_URL = "https://example.invalid/yolo11n.pt"
RESNET_URL = "https://example.invalid/resnet50-0676ba61.pth"


@pytest.fixture
def offline(monkeypatch, tmp_path: Path) -> Path:
    """No network, an empty torch hub cache and an empty ultralytics weights folder (under tmp_path)."""
    cache = tmp_path / "hub" / "checkpoints"
    monkeypatch.setattr(detect_inputs, "reachable", lambda url: False)
    monkeypatch.setattr(model_inputs, "reachable", lambda url: False)
    monkeypatch.setattr(
        detect_inputs, "ultralytics_source", lambda name: ([tmp_path / "weights" / name], YOLO_URL)
    )
    monkeypatch.setattr(
        model_inputs, "imagenet_source", lambda name: (cache / "resnet50-0676ba61.pth", RESNET_URL)
    )
    return cache


def _keys(error: MissingInputsError) -> list[str]:
    return [item.key for item in error.missing]


def test_rfv_run_names_every_missing_input_by_its_full_key_in_one_error(tmp_path, offline, capsys):
    cameras = tmp_path / "cameras"
    cameras.mkdir()
    nowhere = tmp_path / "nowhere"
    code = main(
        [
            "run",
            str(cameras),
            "--out",
            str(tmp_path / "run"),
            "track.detector.backend=yolox",
            f"track.detector.weights={nowhere / 'yolox_nano.onnx'}",
            "track.embedder.backend=onnx",
            f"track.embedder.weights={nowhere / 'osnet.onnx'}",
            f"label_model={nowhere / 'label.onnx'}",
            f"train.model.init={nowhere / 'init.pt'}",
            f"gt={nowhere / 'gt'}",
            f"eval_data={nowhere / 'mars'}",
            f"associate.topology={nowhere / 'walkways.csv'}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("rfv run: error: 7 input(s) missing") and err.count("rfv run: error") == 1
    keys = ("track.detector.weights", "track.embedder.weights", "label_model", "train.model.init")
    for key in (*keys, "associate.topology"):
        assert f"\n  {key}={nowhere}" in err, key
    assert f"\n  gt={nowhere / 'gt'}: not found" in err and f"\n  eval_data={nowhere / 'mars'}" in err
    assert not (tmp_path / "run").exists()


def test_rfv_run_offline_with_no_overrides_says_what_to_fetch_and_give(tmp_path, offline, capsys):
    cameras = tmp_path / "cameras"
    cameras.mkdir()
    assert main(["run", str(cameras), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "2 input(s) missing" in err
    assert "\n  track.detector.weights=yolo11n.pt: an ultralytics model name" in err
    assert YOLO_URL in err and "the YOLOX ONNX detector: track.detector.weights=PATH/yolox_nano.onnx" in err
    assert "\n  train.model.weights=imagenet: torchvision's ResNet50_Weights.IMAGENET1K_V1" in err
    assert "train.model.weights=PATH/resnet50-0676ba61.pth" in err and str(offline) in err
    assert "a pretrained re-ID model: train.model.init=PATH/osnet_x0_25_msmt17.onnx" in err


def test_rfv_run_offline_needs_only_the_detector_file_and_the_init_file(
    tmp_path, offline, capsys, shared_data
):
    """The two files a user fetches elsewhere are all that ``rfv run`` needs offline: the backends and
    the backbone follow from the files."""
    cameras = tmp_path / "cameras"
    cameras.mkdir()  # empty: past the input check, rfv run stops at finding no camera
    detector = need(shared_data, "models/yolox_nano.onnx")
    init = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    overrides = [f"track.detector.weights={detector}", f"train.model.init={init}"]
    code = main(["run", str(cameras), "--out", str(tmp_path / "run"), *overrides])
    err = capsys.readouterr().err
    assert code == 2 and "input(s) missing" not in err and "Traceback" not in err
    assert err.endswith("cameras: empty folder\n"), err


def test_a_missing_model_init_fails_before_tracking_starts(tmp_path, capsys):
    cameras = tmp_path / "cameras"
    cameras.mkdir()  # empty: tracking, had it started, would write RUN/track/ before failing on it
    run = tmp_path / "run"
    code = main(
        [
            "run",
            str(cameras),
            "--out",
            str(run),
            "track.detector.backend=bgsub",
            "track.embedder.backend=histogram",
            f"train.model.init={tmp_path / 'osnet.onnx'}",
        ]
    )
    err = capsys.readouterr().err
    assert (
        code == 2 and "1 input(s)" in err and f"train.model.init={tmp_path / 'osnet.onnx'}: not found" in err
    )
    assert not (run / "track").exists() and not run.exists()


def test_single_stage_commands_name_their_own_keys(tmp_path, offline, capsys):
    cameras = tmp_path / "cameras"
    cameras.mkdir()
    config = load_config(TrackConfig, None, ["embedder.backend=onnx", "embedder.weights="])
    with pytest.raises(MissingInputsError) as caught:
        run_track(cameras, tmp_path / "track", config)
    assert _keys(caught.value) == ["detector.weights", "embedder.weights"]
    assert "embedder.weights='': not given" in str(caught.value)
    assert not (tmp_path / "track").exists()

    train = load_config(
        TrainConfig, None, [f"model.init={tmp_path / 'no.pt'}", f"eval.data={tmp_path / 'm'}"]
    )
    with pytest.raises(MissingInputsError) as caught:
        run_train(tmp_path / "store", tmp_path / "train", train)
    assert _keys(caught.value) == ["model.init", "eval.data"]

    assert main(["train", str(tmp_path), "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "\n  model.weights=imagenet" in err and "train.model" not in err


def test_a_cached_or_downloadable_name_passes(tmp_path, offline, monkeypatch):
    config = DetectorConfig()
    assert _keys_of(detector_inputs(config)) == ["detector.weights"]
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / config.weights).write_bytes(b"")  # in ultralytics' weights folder
    assert detector_inputs(config) == []

    resnet = ModelConfig()
    assert _keys_of(check_model(resnet, "train.")) == ["train.model.weights"]
    offline.mkdir(parents=True)
    (offline / "resnet50-0676ba61.pth").write_bytes(b"")  # in torch's hub cache
    assert check_model(resnet, "train.") == []

    monkeypatch.setattr(detect_inputs, "reachable", lambda url: url == YOLO_URL)
    assert detector_inputs(DetectorConfig(weights="yolov8n.pt")) == []  # downloadable where online
    monkeypatch.setattr(detect_inputs, "ultralytics_source", lambda name: ([tmp_path / name], None))
    unknown = detector_inputs(DetectorConfig(weights="no_such_model.pt"), "track.")
    assert [m.key for m in unknown] == ["track.detector.weights"]
    assert unknown[0].problem.startswith("neither a file nor a model name that ultralytics downloads")


def _keys_of(missing: list[Any]) -> list[str]:
    return [item.key for item in missing]


def test_the_probe_counts_any_http_answer_and_no_answer_as_offline(monkeypatch):
    def refuse(request: Any, timeout: float) -> None:
        raise urllib.error.URLError("Name or service not known")

    def forbid(request: Any, timeout: float) -> None:
        raise urllib.error.HTTPError(request.full_url, 403, "Forbidden", {}, None)  # type: ignore[arg-type]

    reachable.cache_clear()
    try:
        monkeypatch.setattr(urllib.request, "urlopen", refuse)
        assert reachable("https://example.invalid/a") is False
        monkeypatch.setattr(urllib.request, "urlopen", forbid)
        assert reachable("https://example.invalid/b") is True
    finally:
        reachable.cache_clear()


def test_the_default_detector_is_ultralytics_by_model_name():
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES

    for config in (
        DetectorConfig(),
        load_config(PipelineConfig, "tmc", stage="pipeline").track.detector,
        load_config(PipelineConfig, "taudl", stage="pipeline").track.detector,
    ):
        assert config.backend == "yolo" and config.device == "auto"
        assert "/" not in config.weights and config.weights in GITHUB_ASSETS_NAMES


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_no_default_points_into_the_workspace_data():
    loaded = {f"{name} defaults": config_to_dict(cmd.config()) for name, cmd in COMMANDS.items()}
    for cmd in COMMANDS.values():
        folder = PRESETS_DIR / cmd.presets
        for preset in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            loaded[str(preset)] = config_to_dict(load_config(cmd.config, preset))
    for preset in sorted(PRESETS_DIR.rglob("*.yaml")):  # every preset's own values, whichever config reads it
        loaded[f"{preset} (as written)"] = yaml.safe_load(preset.read_text())
    assert len(loaded) > len(COMMANDS)
    wrong = {where: s for where, value in loaded.items() for s in _strings(value) if "shared/data" in s}
    assert wrong == {}


def _devices(value: Any, key: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    found = {f"{key}{k}": v for k, v in value.items() if k == "device"}
    for k, v in value.items():
        found.update(_devices(v, f"{key}{k}."))
    return found


def test_every_stage_runs_on_the_gpu_when_present():
    for preset in ("tmc", "taudl"):
        devices = _devices(config_to_dict(load_config(PipelineConfig, preset, stage="pipeline")))
        assert {"track.detector.device", "track.embedder.device", "train.device", "label.device"} <= set(
            devices
        )
        assert set(devices.values()) == {"auto"}, devices


def test_an_onnx_init_must_be_an_osnet(tmp_path):
    onnx = tmp_path / "osnet_x0_25_msmt17.onnx"
    onnx.write_bytes(b"")
    wrong = check_model(ModelConfig(init=str(onnx)), "train.")
    assert [m.key for m in wrong] == ["train.model.init"]
    assert "not an ONNX OSNet" in wrong[0].problem and "osnet_x0_25" in wrong[0].remedy


def test_an_osnet_onnx_init_is_enough_whatever_the_backbone(shared_data):
    real = need(shared_data, "models/osnet_x0_25_msmt17.onnx")  # built as the file's network, not resnet50
    assert check_model(ModelConfig(init=str(real)), "train.") == []
