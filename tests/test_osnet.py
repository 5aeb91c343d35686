"""OSNet and ``model.init``: the published sizes, loading a torchreid-layout state dict and an ONNX file with
batch norm folded (one the test exports itself, and the real OSNet-x0.25 MSMT17 file against onnxruntime on
real PETS09 crops), and training started from a file.

``python -m pytest tests/test_osnet.py -q -s`` prints the parity figures."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from conftest import need
from torch import nn

from reid_from_video.core.config import load_config
from reid_from_video.core.errors import InputError
from reid_from_video.io.tracklets import load_tracklets
from reid_from_video.models.architecture import init_architecture, with_init_architecture
from reid_from_video.models.config import IMAGENET_MEAN, IMAGENET_STD, OSNET_WIDTHS, ModelConfig
from reid_from_video.models.osnet import osnet
from reid_from_video.models.reid_net import build_model
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.features import evaluate_model
from reid_from_video.train.run import run_train

PARITY = 0.9999  # cosine, per row
PUBLISHED_MILLIONS = {"osnet_x1_0": 2.2, "osnet_x0_75": 1.3, "osnet_x0_5": 0.6, "osnet_x0_25": 0.2}
VIDEO_SCALE = 0.625  # MOT15 PETS09 gt (768x576) to the 480x360 video


def trained_like(name: str, seed: int = 0) -> nn.Module:
    """A random OSNet whose batch norms are not the identity (so folding and loading them matter)."""
    torch.manual_seed(seed)
    net = osnet(name)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.1)
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def images(n: int, height: int = 256, width: int = 128) -> torch.Tensor:
    return torch.randn(n, 3, height, width, generator=torch.Generator().manual_seed(1))


def osnet_model(name: str = "osnet_x0_25", **fields) -> nn.Module:
    return build_model(ModelConfig(backbone=name, **{"weights": "none", **fields})).eval()


def onnx_features(path: Path, batch: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rows = [session.run(None, {name: row[None]})[0] for row in batch]  # the real file has a fixed batch of 1
    return np.concatenate(rows).reshape(len(batch), -1)


def min_cosine(ours: torch.Tensor, theirs: np.ndarray) -> float:
    return F.cosine_similarity(ours.float(), torch.from_numpy(theirs).float(), dim=1).min().item()


def export_folded(net: nn.Module, path: Path) -> Path:
    """``net`` exported in eval mode: the exporter folds each BatchNorm2d into its convolution."""
    example = torch.zeros(1, 3, 256, 128)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter's notice
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(net, (example,), str(path), dynamo=False, do_constant_folding=True)
    return path


def torchreid_file(net: nn.Module, path: Path) -> Path:
    """``net`` saved as torchreid's checkpoints are: under ``state_dict``, DataParallel's ``module.``
    prefix, with its identity classifier, beside the epoch."""
    state = {f"module.{k}": v for k, v in net.state_dict().items()}
    state |= {"module.classifier.weight": torch.randn(751, 512), "module.classifier.bias": torch.zeros(751)}
    torch.save({"state_dict": state, "epoch": 250}, path)
    return path


# --- the architecture ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(OSNET_WIDTHS))
def test_parameter_counts_are_the_published_ones(name):
    count = sum(p.numel() for p in osnet(name).parameters())  # without the classifier, as published
    assert round(count / 1e6, 1) == PUBLISHED_MILLIONS[name]


def test_a_reid_net_on_osnet_gives_osnet_feature():
    net = trained_like("osnet_x0_5")
    model = osnet_model("osnet_x0_5")
    model.backbone.load_state_dict(net.state_dict())
    x = images(3)
    with torch.no_grad():
        feature = net(x).flatten(1)
        assert feature.shape == (3, 512)
        assert torch.allclose(model(x), F.normalize(feature, dim=1), atol=1e-6)


def test_osnet_configs_are_checked():
    with pytest.raises(ValueError, match="no ImageNet weights: give init=FILE"):
        ModelConfig(backbone="osnet_x0_25")
    with pytest.raises(ValueError, match="pools inside"):
        ModelConfig(backbone="osnet_x0_25", weights="none", pooling="gem")


# --- state dict files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["init", "weights"])
def test_a_torchreid_state_dict_loads_with_identical_outputs(tmp_path, key):
    net = trained_like("osnet_x0_25")
    path = torchreid_file(net, tmp_path / "osnet_x0_25_market.pth")
    model = osnet_model(**{key: str(path)})
    x = images(2)
    with torch.no_grad():
        assert torch.equal(model.backbone(x), net(x))


def test_a_state_dict_with_a_wrong_key_names_the_file_and_the_key(tmp_path):
    state = trained_like("osnet_x0_25").state_dict()
    state["conv9.weight"] = state.pop("conv5.conv.weight")
    path = tmp_path / "renamed.pth"
    torch.save(state, path)
    with pytest.raises(InputError, match="model.init: does not match the osnet_x0_25 backbone") as caught:
        osnet_model(init=str(path))
    message = str(caught.value)
    assert message.startswith(str(path)) and "conv5.conv.weight" in message and "conv9.weight" in message


def test_init_errors_name_the_key_and_the_file(tmp_path):
    missing = tmp_path / "missing.pth"
    with pytest.raises(InputError, match=rf"{missing}: model.init: file not found"):
        osnet_model(init=str(missing))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match=rf"{garbage}: model.init: cannot load"):
        osnet_model(init=str(garbage))
    resnet = tmp_path / "resnet18.pth"
    torch.save(build_model(ModelConfig(backbone="tiny", weights="none")).backbone.state_dict(), resnet)
    with pytest.raises(InputError, match=r"model.init: does not match the osnet_x0_25 backbone"):
        osnet_model(init=str(resnet))


# --- ONNX files ----------------------------------------------------------------------------------------


def test_an_onnx_file_with_batch_norm_folded_loads(tmp_path):
    net = trained_like("osnet_x0_25", seed=2)
    path = export_folded(net, tmp_path / "osnet.onnx")
    ops = Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    assert ops["Conv"] == 187 and ops["BatchNormalization"] == 1  # only fc's BatchNorm1d is left
    model = osnet_model(init=str(path))
    x = images(4)
    with torch.no_grad():
        ours = model(x)
        cosine = min_cosine(ours, onnx_features(path, x.numpy()))
        assert torch.allclose(ours, F.normalize(net(x).flatten(1), dim=1), atol=1e-5)
    print(f"\nexported OSNet-x0.25 (BN folded), loaded: min cosine to onnxruntime {cosine:.7f}")
    assert cosine >= PARITY


def test_the_init_file_decides_the_architecture(tmp_path, capsys):
    """``model.init`` alone is enough: the network built is the file's, whatever ``model.backbone`` says."""
    onnx_file = export_folded(trained_like("osnet_x0_25"), tmp_path / "osnet.onnx")
    x = images(4)
    for backbone in ("resnet50", "osnet_x0_5", "tiny"):
        net = build_model(ModelConfig(backbone=backbone, init=str(onnx_file))).eval()
        assert net.config.backbone == "osnet_x0_25"
        with torch.no_grad():
            assert min_cosine(net(x), onnx_features(onnx_file, x.numpy())) >= PARITY
    torchreid = torchreid_file(trained_like("osnet_x0_5"), tmp_path / "osnet_x0_5.pth")
    resnet18 = tmp_path / "resnet18.pth"
    torch.save(build_model(ModelConfig(backbone="resnet18", weights="none")).backbone.state_dict(), resnet18)
    expected = {onnx_file: "osnet_x0_25", torchreid: "osnet_x0_5", resnet18: "resnet18"}
    assert {path: init_architecture(path) for path in expected} == expected
    assert init_architecture(tmp_path / "missing.pth") is None
    config = with_init_architecture(ModelConfig(init=str(torchreid)))
    assert config.backbone == "osnet_x0_5" and "holds the network osnet_x0_5" in capsys.readouterr().out


def test_an_onnx_file_that_is_not_an_osnet_is_refused(tmp_path):
    tiny = build_model(ModelConfig(backbone="tiny", weights="none")).backbone.eval()
    path = export_folded(tiny, tmp_path / "tiny.onnx")  # no depthwise convolutions: not OSNet
    assert init_architecture(path) is None
    with pytest.raises(InputError, match="model.init: ONNX loads into an OSNet backbone"):
        build_model(ModelConfig(backbone="tiny", weights="none", init=str(path)))


def pets09_crops(root: Path, count: int = 48) -> np.ndarray:
    """``count`` ground-truth person crops of the real PETS09-S2L1 video, preprocessed as the OSNet file
    expects (256 x 128 RGB, ImageNet mean / std), N x 3 x 256 x 128 float32."""
    video = need(root, "video/pets09_s2l1_view1.avi")
    gt = np.loadtxt(need(root, "mot15/PETS09-S2L1/gt/gt.txt"), delimiter=",")
    frames = sorted({int(f) for f in gt[:, 0]})[::40]
    capture = cv2.VideoCapture(str(video))
    crops, index = [], 0
    try:
        for frame_number in frames:
            while index < frame_number:
                ok, image = capture.read()
                assert ok, f"{video}: frame {index + 1} unreadable"
                index += 1
            for _, _, x, y, w, h in gt[gt[:, 0] == frame_number][:, :6] * [1, 1, *[VIDEO_SCALE] * 4]:
                x0, y0 = max(0, int(x)), max(0, int(y))
                crop = image[y0 : int(y + h), x0 : int(x + w)]
                if min(crop.shape[:2]) >= 8:
                    crops.append(cv2.resize(crop, (128, 256), interpolation=cv2.INTER_LINEAR)[:, :, ::-1])
    finally:
        capture.release()
    batch = (np.stack(crops[:count]).astype(np.float32) / 255 - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)


def test_the_real_osnet_onnx_file_matches_onnxruntime_on_real_crops(shared_data):
    path = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    crops = pets09_crops(shared_data)
    assert len(crops) == 48
    model = osnet_model(init=str(path))
    with torch.no_grad():
        cosine = min_cosine(model(torch.from_numpy(crops)), onnx_features(path, crops))
    label = f"osnet_x0_25_msmt17.onnx (BN folded), loaded, against onnxruntime on {len(crops)} PETS09 crops"
    print(f"\n{label}: min cosine {cosine:.7f}")
    assert cosine >= PARITY


# --- model.init in training ----------------------------------------------------------------------------


def train_config(*overrides: str) -> TrainConfig:
    small = [
        "model.input_size=[64, 32]",
        "data.workers=0",
        "threads=1",
        "progress=false",
        "channels_last=false",
    ]
    return load_config(TrainConfig, None, [*small, "method=taudl", "data.p=12", *overrides], stage="train")


def test_training_starts_from_an_rfv_model(mars_world, tmp_path):
    eval_data = f"eval.data={mars_world / 'mars'}"
    tiny = ["model.backbone=tiny", "model.weights=none", eval_data]
    first = run_train(mars_world / "mars", tmp_path / "a", train_config(*tiny, "epochs=1", "data.iters=2"))
    init = f"model.init={tmp_path / 'a' / 'model.pt'}"
    second = run_train(
        mars_world / "mars", tmp_path / "b", train_config(*tiny, init, "epochs=1", "data.iters=1")
    )
    assert second.before.mAP == first.after.mAP  # the untrained network is the first run's
    assert second.before.rank1 == first.after.rank1
    # The file decides the architecture: model.backbone names the network of starts without an init file.
    third = train_config(init, "model.backbone=osnet_x0_25", "epochs=1", "data.iters=1", eval_data)
    run_train(mars_world / "mars", tmp_path / "c", third)
    saved = torch.load(tmp_path / "c" / "model.pt", map_location="cpu", weights_only=True)
    assert saved["model"]["backbone"] == "tiny"


def test_training_starts_from_an_osnet_onnx_file(mars_world, tmp_path):
    path = export_folded(trained_like("osnet_x0_25", seed=3), tmp_path / "osnet.onnx")
    overrides = ["model.backbone=osnet_x0_25", f"model.init={path}", f"eval.data={mars_world / 'mars'}"]
    config = train_config(*overrides, "epochs=1", "data.iters=1")
    report = run_train(mars_world / "mars", tmp_path / "run", config)
    pretrained = build_model(config.model)
    expected = evaluate_model(pretrained, load_tracklets(mars_world / "mars"), torch.device("cpu"), 8)
    assert report.before.mAP == pytest.approx(expected["mAP"], abs=1e-9)
    assert report.before.rank1 == pytest.approx(expected["rank1"], abs=1e-9)


def test_a_folded_onnx_start_keeps_its_backbone_norms_in_eval_mode_while_training(tmp_path):
    """A folded file's norms hold no batch statistics (the identity plus a bias): training-mode forwards
    must not replace them with a batch's, or the pretrained features are lost before the first step."""
    path = export_folded(trained_like("osnet_x0_25", seed=5), tmp_path / "osnet.onnx")
    net = build_model(ModelConfig(backbone="osnet_x0_25", weights="none", init=str(path)), 4).train()
    norms = [m for m in net.backbone.modules() if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d)]
    assert norms and not any(m.training for m in norms)
    assert net.training and net.neck.training  # the rest trains as usual, the new BN-neck included
    before = {k: v.clone() for k, v in net.backbone.state_dict().items()}
    torch.manual_seed(0)
    with torch.no_grad():
        net(torch.randn(8, 3, 256, 128) * 2 + 1)
    after = net.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    plain = build_model(ModelConfig(backbone="osnet_x0_25", weights="none"), 4).train()
    assert all(m.training for m in plain.backbone.modules() if isinstance(m, nn.BatchNorm2d))


def test_a_run_that_did_not_score_its_start_reports_no_before(mars_world, tmp_path):
    """With ``eval.before=false`` the first evaluation is a trained epoch: never shown as the start."""
    tiny = ["model.backbone=tiny", "model.weights=none", f"eval.data={mars_world / 'mars'}"]
    config = train_config(*tiny, "epochs=1", "data.iters=1", "eval.before=false")
    result = run_train(mars_world / "mars", tmp_path / "run", config)
    assert result.before is None and result.after is not None
    assert result.summary().endswith("(trained; the start not scored)")


@pytest.mark.parametrize("kind", ["onnx", "torchreid"])
def test_rfv_export_of_a_pretrained_file_gives_the_same_network_with_a_dynamic_batch(tmp_path, kind):
    """The OSNet ONNX files published have a fixed batch of 1 (one crop per call); ``rfv export FILE``
    rebuilds the network as training would start from it and exports it with a dynamic batch axis."""
    from reid_from_video.cli import main

    net = trained_like("osnet_x0_25", seed=3)
    original = export_folded(net, tmp_path / "osnet.onnx")
    given = original if kind == "onnx" else torchreid_file(net, tmp_path / "osnet.pth")
    assert main(["export", str(given), "--out", str(tmp_path / "out"), "format=onnx"]) == 0
    exported = tmp_path / "out" / "model.onnx"
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    assert isinstance(session.get_inputs()[0].shape[0], str)  # a named (dynamic) batch axis
    x = images(5).numpy()
    batched = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert batched.shape == (5, 512)
    cosine = min_cosine(torch.from_numpy(batched), onnx_features(original, x))
    assert cosine >= PARITY
