"""Fault battery (issue 19), safety: no file a user gives runs code when it is read (every path where a
library could unpickle it), no model's broken output (NaN, a feature map) becomes features, and a file given
where rfv train's model.pt is expected is named with what it is."""

from __future__ import annotations

import datetime
import io
import os
import pickle
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
import torch
from conftest import clear_error
from onnx import TensorProto, helper
from test_export import make_checkpoint

from reid_from_video.cli import main
from reid_from_video.core.errors import InputError
from reid_from_video.detect.config import DetectorConfig
from reid_from_video.detect.inputs import detector_inputs
from reid_from_video.detect.precomputed import load_detection_rows
from reid_from_video.detect.registry import build_detector
from reid_from_video.embed.precomputed import PrecomputedEmbedder
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.models.backbones import build_backbone

# The synth preset is set for 640x360; at half the size, areas and heights shrink (as tests/test_track_synth).
HALF_SIZE = ["detector.bg_min_area=40", "detector.bg_join_height=8", "detector.min_height=10"]


# ------------------------------------------------------------------------------------ malicious files


class _System:
    """Unpickled, runs ``touch MARKER`` through the shell."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Exec:
    """Unpickled, runs Python code that writes MARKER."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


class _Subprocess:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return subprocess.call, (["touch", str(self.marker)],)


class _LoadsAnother:
    """Calls ultralytics' YOLO on another file: an ultralytics class, but called, never in a checkpoint."""

    def __init__(self, other: Path):
        self.other = other

    def __reduce__(self):
        from ultralytics import YOLO

        return YOLO, (str(self.other),)


def _evil_pt(path: Path, marker: Path, payload: type = _System) -> Path:
    """A torch.save file whose unpickling writes ``marker``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": payload(marker), "state_dict": {}}, path)
    return path


def _variants(root: Path, marker: Path) -> dict[str, Path]:
    """Malicious weights files, each built another way a loader could be led to run the payload."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "os.system": _evil_pt(root / "system.pt", marker),
        "builtins.exec": _evil_pt(root / "exec.pt", marker, _Exec),
        "subprocess": _evil_pt(root / "subprocess.pt", marker, _Subprocess),
    }
    files["ultralytics YOLO called"] = root / "chained.pt"
    torch.save({"model": _LoadsAnother(files["os.system"])}, files["ultralytics YOLO called"])
    # A protocol-0 pickle (torch's legacy, non-zip format reads any pickle stream).
    raw = root / "raw.pt"
    raw.write_bytes(f"cposix\nsystem\n(S'touch {marker}'\ntR.".encode())
    files["protocol 0 pickle"] = raw
    # torch's legacy stream: the magic number, protocol and system pickles, then the payload.
    legacy = root / "legacy.pt"
    header = [pickle.dumps(v, 2) for v in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True})]
    legacy.write_bytes(b"".join(header) + pickle.dumps(_Subprocess(marker), 2))
    files["legacy pickle stream"] = legacy
    # A payload pickle with a genuine-looking zip appended (Python's zipfile finds the zip, torch does not).
    polyglot = root / "polyglot.pt"
    polyglot.write_bytes(pickle.dumps(_Exec(marker)) + files["os.system"].read_bytes())
    files["pickle + zip polyglot"] = polyglot
    # A torch zip with an extra member that makes it look like TorchScript.
    disguised = root / "disguised.pt"
    shutil.copy(files["os.system"], disguised)
    with zipfile.ZipFile(disguised, "a") as archive:
        archive.writestr("system/constants.pkl", pickle.dumps(()))
    files["zip with constants.pkl"] = disguised
    # torch's oldest format: a tar whose members torch unpickles.
    old = root / "old.pt"
    with tarfile.open(old, "w") as archive:
        data = pickle.dumps(_System(marker))
        info = tarfile.TarInfo("pickle")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    files["legacy tar"] = old
    # getattr, as checkpoints reach a module's forward, reading a private attribute or calling what it read.
    model = "cultralytics.nn.tasks\nDetectionModel\n"
    private = root / "private.pt"
    private.write_bytes(
        f"\x80\x02cbuiltins\ngetattr\n{model}X\x08\x00\x00\x00__init__\x86R.".encode("latin-1")
    )
    files["getattr of a private attribute"] = private
    method = root / "method.pt"
    method.write_bytes(
        f"\x80\x02cbuiltins\ngetattr\n{model}X\x04\x00\x00\x00load\x86RX\x01\x00\x00\x00x\x85R.".encode(
            "latin-1"
        )
    )
    files["a method read with getattr, called"] = method
    # A model definition: ultralytics eval()s its activation while it builds the network.
    definition = root / "evil.yaml"
    definition.write_text(
        f"nc: 80\nactivation: __import__('os').system('touch {marker}') or nn.SiLU()\n"
        "backbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead:\n  - [-1, 1, Classify, [80]]\n"
    )
    files["model yaml with code"] = definition
    return files


VARIANTS = [
    "os.system",
    "builtins.exec",
    "subprocess",
    "ultralytics YOLO called",
    "protocol 0 pickle",
    "legacy pickle stream",
    "pickle + zip polyglot",
    "zip with constants.pkl",
    "legacy tar",
    "getattr of a private attribute",
    "a method read with getattr, called",
    "model yaml with code",
]


@pytest.fixture(scope="module")
def genuine_yolo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A genuine ultralytics checkpoint (an untrained yolov8n: no download)."""
    ultralytics = pytest.importorskip("ultralytics")
    path = tmp_path_factory.mktemp("yolo") / "yolov8n_untrained.pt"
    ultralytics.YOLO("yolov8n.yaml").save(str(path))
    return path


# ------------------------------------------------------------------------- ultralytics detector weights


@pytest.mark.fault("no_code_execution")
def test_track_refuses_a_malicious_ultralytics_weights_file(tmp_path: Path, capsys) -> None:
    """The issue's reproduction: rfv track with detector.weights=evil.pt, refused before any stage."""
    marker = tmp_path / "MARKER"
    evil = _evil_pt(tmp_path / "evil.pt", marker)
    (tmp_path / "videos").mkdir()
    args = ["track", str(tmp_path / "videos"), "--out", str(tmp_path / "O"), "-c", "synth"]
    code = main([*args, "detector.backend=yolo", f"detector.weights={evil}"])
    clear_error(code, capsys.readouterr().err, evil, "posix.system", "detector.trust_weights=true")
    assert not marker.exists()
    assert not (tmp_path / "O").exists()


@pytest.mark.fault("no_code_execution")
def test_run_names_the_key_under_its_stage(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "MARKER"
    evil = _evil_pt(tmp_path / "evil.pt", marker, _Exec)
    (tmp_path / "videos").mkdir()
    code = main(
        ["run", str(tmp_path / "videos"), "--out", str(tmp_path / "O"), f"track.detector.weights={evil}"]
    )
    clear_error(code, capsys.readouterr().err, evil, "builtins.exec", "track.detector.trust_weights=true")
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_detector_never_hands_ultralytics_a_malicious_file(tmp_path: Path, variant: str) -> None:
    """Each way of building the file is refused by the up-front check and by the detector itself."""
    marker = tmp_path / "MARKER"
    evil = _variants(tmp_path / "files", marker)[variant]
    config = DetectorConfig(backend="yolo", weights=str(evil), device="cpu")
    [missing] = detector_inputs(config)
    assert missing.key == "detector.weights" and missing.problem.startswith("refused")
    assert "detector.trust_weights=true" in missing.remedy
    with pytest.raises(InputError, match="refused") as caught:
        build_detector(config, tmp_path, "cam")
    assert str(evil) in str(caught.value)
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
def test_a_malicious_file_under_a_model_name_is_refused(tmp_path: Path, monkeypatch) -> None:
    """A bare name (yolo11n.pt) that ultralytics finds in its weights folder is checked there."""
    from ultralytics.utils import SETTINGS

    marker = tmp_path / "MARKER"
    _evil_pt(tmp_path / "weights" / "yolo11n.pt", marker)
    monkeypatch.setitem(SETTINGS, "weights_dir", str(tmp_path / "weights"))
    monkeypatch.chdir(tmp_path)
    config = DetectorConfig(backend="yolo", weights="yolo11n.pt", device="cpu")
    [missing] = detector_inputs(config)
    assert missing.problem.startswith("refused")
    with pytest.raises(InputError, match="refused"):
        build_detector(config, tmp_path, "cam")
    assert not marker.exists()


@pytest.mark.fault("handled")
def test_a_genuine_ultralytics_checkpoint_passes_the_check(genuine_yolo: Path) -> None:
    from reid_from_video.detect.weights import weights_problem

    assert weights_problem(genuine_yolo) is None
    assert detector_inputs(DetectorConfig(backend="yolo", weights=str(genuine_yolo))) == []


@pytest.mark.fault("handled")
def test_a_trained_style_checkpoint_passes_the_check(tmp_path: Path) -> None:
    """What official checkpoints hold beyond an untrained model: a fused forward (getattr of a bound method),
    a class's method, training arguments with paths and numpy scalars."""
    from ultralytics import YOLO
    from ultralytics.nn.modules.head import Detect

    from reid_from_video.detect.weights import weights_problem

    model = YOLO("yolov8n.yaml").model
    model.model[-1].forward = model.model[-1].forward
    args = {"project": Path("runs"), "lr": np.float64(0.01)}
    torch.save({"model": model, "train_args": args, "method": Detect.forward}, tmp_path / "trained.pt")
    assert weights_problem(tmp_path / "trained.pt") is None


@pytest.mark.fault("handled")
def test_trust_weights_hands_a_trusted_file_to_ultralytics(tmp_path: Path) -> None:
    """The opt-in skips the check: a harmless pickle beyond the allow-list reaches ultralytics, which
    rejects it as no model (refused without the opt-in)."""
    trusted = tmp_path / "trusted.pt"
    torch.save({"model": {"day": datetime.date(2026, 1, 1)}}, trusted)  # harmless, but not in a checkpoint
    config = DetectorConfig(backend="yolo", weights=str(trusted), device="cpu")
    assert detector_inputs(config)[0].problem.startswith("refused")
    trusting = DetectorConfig(backend="yolo", weights=str(trusted), device="cpu", trust_weights=True)
    assert detector_inputs(trusting) == []
    with pytest.raises(InputError) as caught:
        build_detector(trusting, tmp_path, "cam")
    assert "refused" not in str(caught.value) and "cannot load the ultralytics model" in str(caught.value)


# ------------------------------------------------------------- every other path that reads a user's file


@pytest.mark.fault("no_code_execution")
@pytest.mark.parametrize("variant", VARIANTS)
def test_model_files_load_weights_only(tmp_path: Path, variant: str) -> None:
    """The re-ID runtime (embedder.weights, --model), rfv export and model.init / backbone weights."""
    marker = tmp_path / "MARKER"
    evil = _variants(tmp_path / "files", marker)[variant]
    with pytest.raises(InputError) as caught:
        ReidModel.load(evil, "cpu")
    assert str(evil) in str(caught.value)
    with pytest.raises(InputError):
        build_backbone("tiny", str(evil))
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
def test_imagenet_weights_in_torchs_cache_load_weights_only(tmp_path: Path, monkeypatch) -> None:
    """model.weights=imagenet reads torchvision's file from torch's hub cache, where a user may put it."""
    from torchvision.models import get_weight

    marker = tmp_path / "MARKER"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    name = get_weight("ResNet18_Weights.IMAGENET1K_V1").url.rsplit("/", 1)[-1]
    cached = _evil_pt(tmp_path / "hub" / "checkpoints" / name, marker)
    with pytest.raises(InputError, match="posix.system") as caught:
        build_backbone("resnet18", "imagenet")
    assert str(cached) in str(caught.value) and "weights_only" not in str(caught.value)
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
def test_export_refuses_a_malicious_model_file(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "MARKER"
    evil = _evil_pt(tmp_path / "model.pt", marker, _Subprocess)
    code = main(["export", str(evil), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    clear_error(code, err, evil, "subprocess.call", "rfv train's model.pt")
    assert "weights_only" not in err  # never torch's advice to load it unsafely
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
def test_tracker_embedder_refuses_a_malicious_model_file(small_world: Path, tmp_path: Path, capsys) -> None:
    marker = tmp_path / "MARKER"
    evil = _evil_pt(tmp_path / "reid.pt", marker, _Exec)
    args = [
        "track",
        str(small_world / "videos"),
        "--out",
        str(tmp_path / "O"),
        "-c",
        "synth",
        "progress=false",
    ]
    code = main([*args, *HALF_SIZE, "embedder.backend=torch", f"embedder.weights={evil}"])
    err = capsys.readouterr().err
    clear_error(code, err, evil, "builtins.exec", "embedder.weights")
    assert "nothing was run" in err  # told by the up-front check, before any stage
    assert not (tmp_path / "O").exists()
    assert not marker.exists()


def _object_array(marker: Path) -> np.ndarray:
    array = np.empty(2, dtype=object)
    array[0] = _System(marker)
    return array


@pytest.mark.fault("no_code_execution")
def test_features_npy_is_never_unpickled(tmp_path: Path, capsys) -> None:
    """rfv evaluate --features: a .npy holding pickled objects is refused unread."""
    marker = tmp_path / "MARKER"
    features = tmp_path / "f.npy"
    np.save(features, _object_array(marker), allow_pickle=True)
    (tmp_path / "store").mkdir()
    code = main(
        ["evaluate", str(tmp_path / "store"), "--features", str(features), "--out", str(tmp_path / "e")]
    )
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
def test_detection_npy_is_never_unpickled(tmp_path: Path) -> None:
    """detector.backend=precomputed with a deep_sort .npy that holds pickled objects."""
    marker = tmp_path / "MARKER"
    detections = tmp_path / "det.npy"
    np.save(detections, _object_array(marker), allow_pickle=True)
    with pytest.raises(InputError, match=r"det\.npy: cannot read the \.npy file"):
        load_detection_rows(detections)
    assert not marker.exists()


@pytest.mark.fault("no_code_execution")
def test_config_yaml_constructs_no_objects(tmp_path: Path, capsys) -> None:
    """A config file (and an override value) with a Python tag is read with yaml.safe_load."""
    marker = tmp_path / "MARKER"
    config = tmp_path / "evil.yaml"
    config.write_text(f"seed: !!python/object/apply:os.system ['touch {marker}']\n")
    code = main(["synth", "--out", str(tmp_path / "w"), "-c", str(config)])
    clear_error(code, capsys.readouterr().err, config)
    code = main(
        ["synth", "--out", str(tmp_path / "w"), f"seed=!!python/object/apply:os.system ['touch {marker}']"]
    )
    assert code != 0 and "Traceback" not in capsys.readouterr().err
    assert not marker.exists()


# ---------------------------------------------------------------- broken model outputs (issue part 5)


def _onnx(path: Path, nodes: list, output_shape: list, initializers: list | None = None) -> Path:
    """An ONNX model from N x 3 x 8 x 4 input ``x`` to output ``y`` (IR 8, opset 13)."""
    graph = helper.make_graph(
        nodes,
        path.stem,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        initializer=initializers or [],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), path)
    return path


def _pool(path: Path, times: float = 1.0) -> Path:
    """The mean of each channel times ``times`` (NaN, inf: a broken model)."""
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Mul", ["f", "k"], ["y"]),
    ]
    return _onnx(path, nodes, ["N", 3], [helper.make_tensor("k", TensorProto.FLOAT, [1], [times])])


def _feature_map(path: Path) -> Path:
    """A 4-D N x 3 x 8 x 4 output (a backbone's map, not an embedding)."""
    return _onnx(path, [helper.make_node("Identity", ["x"], ["y"])], ["N", 3, 8, 4])


def _one_row(path: Path) -> Path:
    """Every crop's feature in one row: 1 x (N * 96)."""
    return _onnx(path, [helper.make_node("Flatten", ["x"], ["y"], axis=0)], [1, "F"])


BROKEN = {
    "NaN output": (lambda p: _pool(p, float("nan")), "NaN or infinite"),
    "inf output": (lambda p: _pool(p, float("inf")), "NaN or infinite"),
    "4-D feature map": (_feature_map, "shape [3, 3, 8, 4]"),
    "one row for the batch": (_one_row, "expected 3 x D"),
}


@pytest.mark.fault("no_silent_wrong")
@pytest.mark.parametrize("case", list(BROKEN))
def test_embed_refuses_a_broken_model_output(tmp_path: Path, case: str, capsys) -> None:
    build, problem = BROKEN[case]
    model = build(tmp_path / "broken.onnx")
    for i in range(3):
        (tmp_path / "crops").mkdir(exist_ok=True)
        cv2.imwrite(str(tmp_path / "crops" / f"{i}.png"), np.full((16, 8, 3), 40 * i, np.uint8))
    out = tmp_path / "out" / "features.npy"
    code = main(["embed", str(tmp_path / "crops"), "--model", str(model), "--out", str(out)])
    clear_error(code, capsys.readouterr().err, model, problem)
    assert not out.exists()


@pytest.mark.fault("handled")
def test_a_pooled_map_is_one_feature_per_crop(tmp_path: Path) -> None:
    """N x D x 1 x 1 (a pooled map without Flatten) is N x D features, as before."""
    model = _onnx(
        tmp_path / "pooled.onnx", [helper.make_node("GlobalAveragePool", ["x"], ["y"])], ["N", 3, 1, 1]
    )
    features = ReidModel.load(model).embed([np.full((9, 9, 3), (30, 40, 0), np.uint8)] * 2)
    assert features.shape == (2, 3) and np.isfinite(features).all()


@pytest.fixture(scope="module")
def nan_model_pt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An rfv train model.pt whose weights diverged to NaN."""
    path = tmp_path_factory.mktemp("nan") / "model.pt"
    make_checkpoint(path)
    content = torch.load(path, weights_only=True)
    for name, value in content["state_dict"].items():
        if name.endswith("weight") and value.is_floating_point():
            value.fill_(float("nan"))
    torch.save(content, path)
    return path


@pytest.mark.fault("no_silent_wrong")
@pytest.mark.parametrize("model", ["nan.onnx", "model.pt"])
def test_evaluate_refuses_nan_features(mars_world: Path, nan_model_pt: Path, tmp_path: Path, model, capsys):
    """The issue's case: an invented mAP with exit 0 from a model whose features are NaN."""
    path = _pool(tmp_path / model, float("nan")) if model.endswith(".onnx") else nan_model_pt
    out = tmp_path / "eval"
    args = ["evaluate", str(mars_world / "mars"), "--model", str(path), "--out", str(out)]
    code = main([*args, "frames_per_tracklet=2"])
    clear_error(code, capsys.readouterr().err, path, "NaN or infinite")
    assert not (out / "evaluate.json").exists()


@pytest.mark.fault("no_silent_wrong")
def test_export_refuses_a_model_with_nan_weights(nan_model_pt: Path, tmp_path: Path, capsys) -> None:
    code = main(["export", str(nan_model_pt), "--out", str(tmp_path / "out")])
    clear_error(code, capsys.readouterr().err, nan_model_pt, "NaN or infinite")


@pytest.mark.fault("no_silent_wrong")
def test_training_does_not_start_from_nan_weights(nan_model_pt: Path, tmp_path: Path) -> None:
    """model.init (an rfv model.pt) and a backbone state dict with NaN are refused, naming the file."""
    from reid_from_video.models.config import ModelConfig
    from reid_from_video.models.reid_net import build_model

    config = ModelConfig(backbone="tiny", weights="none", init=str(nan_model_pt), input_size=(64, 32))
    with pytest.raises(InputError, match="NaN or infinite") as caught:
        build_model(config, num_classes=[3])
    assert str(nan_model_pt) in str(caught.value)
    state = {k: v for k, v in torch.load(nan_model_pt, weights_only=True)["state_dict"].items()}
    backbone = {k.removeprefix("backbone."): v for k, v in state.items() if k.startswith("backbone.")}
    torch.save(backbone, tmp_path / "backbone.pth")
    with pytest.raises(InputError, match=r"backbone\.pth: weights hold NaN"):
        build_backbone("tiny", str(tmp_path / "backbone.pth"))


@pytest.mark.fault("no_silent_wrong")
def test_tracking_refuses_nan_appearance_features(small_world: Path, tmp_path: Path, capsys) -> None:
    """The issue's case: NaN features doubled the track count; now the first camera fails, naming the
    model."""
    model = _pool(tmp_path / "nan.onnx", float("nan"))
    args = [
        "track",
        str(small_world / "videos"),
        "--out",
        str(tmp_path / "run"),
        "-c",
        "synth",
        "progress=false",
    ]
    code = main(
        [*args, *HALF_SIZE, "embedder.backend=onnx", f"embedder.weights={model}", "embedder.device=cpu"]
    )
    clear_error(code, capsys.readouterr().err, model, "NaN or infinite")
    assert not (tmp_path / "run" / "summary.json").exists()


@pytest.mark.fault("no_silent_wrong")
def test_precomputed_features_with_nan_are_refused(tmp_path: Path) -> None:
    rows = np.array([[1, -1, 0, 0, 10, 20, 0.9, 0.5, np.nan], [2, -1, 0, 0, 10, 20, 0.9, 0.1, 0.2]])
    np.save(tmp_path / "det.npy", rows)
    with pytest.raises(InputError, match=r"det\.npy: features hold NaN"):
        PrecomputedEmbedder(tmp_path / "det.npy")


# --------------------------------------------------------- a file where rfv train's model.pt is expected


@pytest.mark.fault("clear_error")
def test_export_of_an_onnx_file_says_what_it_takes(tmp_path: Path, capsys) -> None:
    """The issue's case: torch's advice to re-run with weights_only=False; now: an ONNX file, not a
    model.pt."""
    model = _pool(tmp_path / "model.onnx")
    code = main(["export", str(model), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    clear_error(code, err, model, "an ONNX model", "rfv train's model.pt")
    assert "weights_only" not in err
    renamed = tmp_path / "renamed.pt"  # told by content, whatever the name
    shutil.copy(model, renamed)
    code = main(["export", str(renamed), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    clear_error(code, err, renamed, "an ONNX model", "rfv train's model.pt")


@pytest.mark.fault("clear_error")
def test_export_of_an_ultralytics_checkpoint_names_its_classes(genuine_yolo: Path, tmp_path: Path, capsys):
    code = main(["export", str(genuine_yolo), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    clear_error(code, err, genuine_yolo, "ultralytics.nn.tasks.DetectionModel", "rfv train's model.pt")
    assert "weights_only" not in err


@pytest.mark.fault("clear_error")
@pytest.mark.parametrize("content", [b"", b"just text", b"PK\x03\x04 truncated zip"])
def test_export_of_a_non_torch_file_says_what_it_takes(tmp_path: Path, content: bytes, capsys) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    code = main(["export", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    clear_error(code, err, path, "rfv train's model.pt")
    assert "weights_only" not in err
