"""rfv export: TorchScript and ONNX files with the PyTorch model's features (parity), model cards, safe
checkpoint loading, the runtime without torch, and the CLI's failure paths."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from reid_from_video.cli import main
from reid_from_video.core import checkpoint
from reid_from_video.core.errors import InputError
from reid_from_video.embed.card import ModelCard, card_path
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.embed.source import is_torchscript, read_source
from reid_from_video.export.config import ExportConfig
from reid_from_video.export.parity import measure, synthetic_crops
from reid_from_video.export.pipeline import run_export
from reid_from_video.models.config import ModelConfig
from reid_from_video.models.reid_net import ReidNet, build_model

REPO = Path(__file__).resolve().parents[1]
SIZE = (64, 32)
TRAINING = {"method": "taudl", "data": "world/mars", "epochs": 3, "metrics": {"mAP": 12.5, "rank1": 10.0}}


def make_checkpoint(
    path: Path, backbone: str = "tiny", input_size: tuple[int, int] = SIZE, **fields: object
) -> ReidNet:
    """A randomly initialised network with TAUDL-style classifiers and non-trivial BatchNorm statistics,
    saved as rfv train saves model.pt; returned in eval mode."""
    torch.manual_seed(0)
    config = ModelConfig(backbone=backbone, weights="none", input_size=input_size, **fields)  # type: ignore[arg-type]
    model = build_model(config, num_classes=[3, 4], load_weights=False).train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, *input_size) * 1.5 + 0.3)
    checkpoint.save(path, checkpoint.model_content(config.to_dict(), model.state_dict(), dict(TRAINING)))
    return model.eval()


def eval_features(model: ReidNet, crops: list[np.ndarray]) -> np.ndarray:
    """The PyTorch model's eval features of ``crops``, with the runtime's preprocessing."""
    card = ModelCard.from_model_config(model.config.to_dict(), model.feature_dim)
    batch = ReidModel(Path("x"), card, lambda b: b, None, "cpu").preprocess(crops)
    with torch.no_grad():
        return model.eval()(torch.from_numpy(batch)).numpy()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReidNet, dict]:
    """A tiny model.pt, exported in both formats."""
    root = tmp_path_factory.mktemp("tiny")
    model = make_checkpoint(root / "run" / "model.pt")
    summary = run_export(root / "run" / "model.pt", root / "export", ExportConfig()).to_json()
    return root, model, summary


@pytest.mark.parametrize("fmt, name", [("torchscript", "model.torchscript.pt"), ("onnx", "model.onnx")])
def test_parity_of_both_formats(tiny, fmt: str, name: str) -> None:
    root, model, summary = tiny
    crops = synthetic_crops(21, SIZE, seed=5)  # other crops than the export's own check, odd batches
    reference = eval_features(model, crops)
    exported = ReidModel.load(root / "export" / name, "cpu")
    assert exported.format == fmt
    features = exported.embed(crops, batch_size=8)
    assert features.shape == (21, 192) and features.dtype == np.float32
    assert cosines(reference, features).min() >= 0.9999
    assert np.abs(reference - features).max() < 1e-4
    assert cosines(features[:1], features[1:]).max() < 0.999  # the crops give different features
    figures = summary["formats"][fmt]["parity"]
    assert figures["rows"] == 16 and figures["min_cosine"] >= 0.9999 and figures["max_abs_diff"] < 1e-4


def test_model_cards(tiny) -> None:
    root, model, summary = tiny
    card = json.loads(card_path(root / "export" / "model.onnx").read_text())
    assert card["input_size"] == list(SIZE) and card["colour"] == "RGB" and card["feature_dim"] == 192
    assert card["mean"] == pytest.approx([0.485, 0.456, 0.406]) and card["std"][0] == pytest.approx(0.229)
    assert card["format"] == "onnx" and card["opset"] == 17 and card["ir_version"] >= 7
    assert card["training"]["method"] == "taudl" and card["metrics"] == TRAINING["metrics"]
    assert card["input"]["shape"] == ["batch", 3, *SIZE] and card["output"]["shape"] == ["batch", 192]
    assert card["parity"]["min_cosine"] >= 0.9999 and card["versions"]["torch"] == torch.__version__
    assert card["model"]["backbone"] == "tiny" and len(card["source"]["sha256"]) == 64
    ts_card = json.loads(card_path(root / "export" / "model.torchscript.pt").read_text())
    assert ts_card["format"] == "torchscript" and ts_card["freeze"] is True
    assert json.loads((root / "export" / "export.json").read_text())["formats"].keys() == {
        "torchscript",
        "onnx",
    }
    assert not list((root / "export").glob(".export-tmp-*"))  # the staging folder is gone


def test_resnet18_parity(tmp_path: Path) -> None:
    model = make_checkpoint(tmp_path / "model.pt", "resnet18", (96, 48), pooling="gem", embedding_dim=64)
    summary = run_export(tmp_path / "model.pt", tmp_path / "out", ExportConfig(batch=6)).to_json()
    crops = synthetic_crops(5, (96, 48), seed=9)
    reference = eval_features(model, crops)
    for row in summary["formats"].values():
        assert row["parity"]["min_cosine"] >= 0.9999
        features = ReidModel.load(row["file"], "cpu").embed(crops)
        assert features.shape == (5, 64) and cosines(reference, features).min() >= 0.9999


def test_checkpoint_loads_as_a_model(tmp_path: Path) -> None:
    model = make_checkpoint(tmp_path / "model.pt")
    crops = synthetic_crops(7, SIZE, seed=2)
    loaded = ReidModel.load(tmp_path / "model.pt", "cpu")
    assert loaded.format == "checkpoint" and loaded.card.feature_dim == 192
    assert loaded.card.extra["training"]["method"] == "taudl"
    np.testing.assert_allclose(loaded.embed(crops, batch_size=3), eval_features(model, crops), atol=1e-6)
    source = read_source(tmp_path / "model.pt")
    assert source.model.classifier is None and not source.model.training
    # The training state (checkpoint.pt): its kept network, TMC's Mean Net before the Net.
    other = build_model(model.config, load_weights=False).eval()
    modules = {"net": other.state_dict(), "mean_net": model.state_dict()}
    checkpoint.save(
        tmp_path / "checkpoint.pt", {"format": 1, "model": model.config.to_dict(), "modules": modules}
    )
    np.testing.assert_allclose(
        ReidModel.load(tmp_path / "checkpoint.pt", "cpu").embed(crops), eval_features(model, crops), atol=1e-6
    )


def test_format_is_told_by_content(tiny, tmp_path: Path) -> None:
    root, _, _ = tiny
    assert is_torchscript(root / "export" / "model.torchscript.pt")
    assert not is_torchscript(root / "run" / "model.pt")
    # A TorchScript file named like a checkpoint still loads as TorchScript.
    renamed = tmp_path / "model.pth"
    renamed.write_bytes((root / "export" / "model.torchscript.pt").read_bytes())
    assert ReidModel.load(renamed, "cpu").format == "torchscript"
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(InputError, match=r"junk\.pt: not a TorchScript model, nor a model file of rfv train"):
        ReidModel.load(junk, "cpu")
    bare = tmp_path / "state.pt"
    torch.save({"w": torch.zeros(2)}, bare)  # a bare state dict: no model config
    with pytest.raises(InputError, match=r"state\.pt: .*no model config"):
        ReidModel.load(bare, "cpu")


def test_checkpoints_load_weights_only(tmp_path: Path) -> None:
    """A pickle that needs code to load (what weights_only refuses) is an error, never executed."""
    evil = tmp_path / "model.pt"
    torch.save({"model": {}, "state_dict": {}, "hook": Path("x")}, evil)  # a non-tensor object
    with pytest.raises(InputError, match=r"model\.pt: .*cannot read as a checkpoint"):
        read_source(evil)


NO_TORCH = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is not installed here")
        return None

sys.meta_path.insert(0, NoTorch())
import numpy as np
from reid_from_video.export.parity import synthetic_crops
from reid_from_video.embed.runtime import ReidModel

model = ReidModel.load(sys.argv[1], "auto")
features = model.embed(synthetic_crops(6, (64, 32), seed=4), batch_size=4)
assert "torch" not in sys.modules, "torch was imported"
np.save(sys.argv[2], features)
print(model.format, model.device)
"""


def test_onnx_runs_where_torch_cannot_be_imported(tiny, tmp_path: Path) -> None:
    root, model, _ = tiny
    script = tmp_path / "no_torch.py"
    script.write_text(textwrap.dedent(NO_TORCH))
    out = tmp_path / "features.npy"
    done = subprocess.run(
        [sys.executable, str(script), str(root / "export" / "model.onnx"), str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["onnx", "cpu"]
    reference = eval_features(model, synthetic_crops(6, SIZE, seed=4))
    assert cosines(reference, np.load(out)).min() >= 0.9999


def test_cli_export_and_its_failures(tiny, tmp_path: Path, monkeypatch, capsys) -> None:
    root, model, _ = tiny
    ckpt = root / "run" / "model.pt"
    crops = tmp_path / "crops"  # real crops for the check: a folder (a tracklet store works too)
    crops.mkdir()
    for i, crop in enumerate(synthetic_crops(5, SIZE, seed=8)):
        cv2.imwrite(str(crops / f"{i}.png"), crop)
    args = [
        "export",
        str(ckpt),
        "--out",
        str(tmp_path / "a"),
        "format=onnx",
        "batch=4",
        f"images={crops}",
    ]
    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "export.json", "export_config.yaml", "model.onnx", "model.onnx.json"
    ]  # fmt: skip
    assert "4 from" in capsys.readouterr().out
    assert json.loads(card_path(tmp_path / "a" / "model.onnx").read_text())["parity"]["crops"] == str(crops)

    # An exporter that writes a different network: the parity check fails, naming the file; nothing written.
    from reid_from_video.export import onnx as onnx_export

    original = onnx_export.export_onnx

    def drifting(net, example, path, opset=17):
        changed = build_model(net.config, load_weights=False).eval()
        changed.load_state_dict(net.state_dict())
        changed.neck.running_mean += 0.5
        return original(changed, example, path, opset)

    monkeypatch.setattr(onnx_export, "export_onnx", drifting)
    out = tmp_path / "b"
    assert main(["export", str(ckpt), "--out", str(out), "format=onnx"]) == 2
    error = capsys.readouterr().err
    assert f"{out / 'model.onnx'}: parity check failed" in error and "min cosine" in error
    assert not (out / "model.onnx").exists() and not card_path(out / "model.onnx").exists()
    assert not list(out.glob(".export-tmp-*"))
    monkeypatch.undo()

    junk = tmp_path / "model.pt"
    junk.write_bytes(b"\x00" * 64)
    assert main(["export", str(junk), "--out", str(tmp_path / "c")]) == 2
    assert f"{junk}: cannot read as a checkpoint" in capsys.readouterr().err
    assert main(["export", str(root / "export" / "model.torchscript.pt"), "--out", str(tmp_path / "c")]) == 2
    assert "a TorchScript model, not a checkpoint" in capsys.readouterr().err


def test_parity_measure() -> None:
    a = np.eye(3, dtype=np.float32)
    figures = measure(a, a + np.array([[0, 0.01, 0], [0, 0, 0], [0, 0, 0]]))
    assert figures.rows == 3 and figures.max_abs_diff == pytest.approx(0.01)
    assert figures.min_cosine == pytest.approx(1 / np.sqrt(1.0001)) and figures.mean_cosine < 1
