"""ReidModel: one runtime for ONNX and TorchScript re-ID models, with the preprocessing of its model card."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from conftest import need
from onnx import TensorProto, helper

from reid_from_video.core.errors import InputError
from reid_from_video.embed.runtime import IMAGENET_MEAN, IMAGENET_STD, ReidModel


def _pooling_onnx(path, batch="N", size=(8, 4)):
    """An ONNX model whose feature is the mean of each input channel: the preprocessing made visible."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, *size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3])
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["p"]),
        helper.make_node("Flatten", ["p"], ["y"], axis=1),
    ]
    graph = helper.make_graph(nodes, "pool", [x], [y])
    # IR version 8: readable by every onnxruntime release of the last years.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, path)
    return path


def _expected(bgr):
    rgb = np.array(bgr[::-1], np.float64) / 255
    feature = (rgb - IMAGENET_MEAN) / IMAGENET_STD
    return feature / np.linalg.norm(feature)


@pytest.mark.parametrize("batch", ["N", 1])
def test_onnx_preprocessing_and_normalisation(tmp_path, batch):
    model = ReidModel.load(_pooling_onnx(tmp_path / "m.onnx", batch))
    assert model.card.input_size == (8, 4)
    colours = [(10, 200, 30), (250, 0, 128), (0, 0, 255)]
    crops = [np.full((37 + 5 * i, 15, 3), c, np.uint8) for i, c in enumerate(colours)]
    features = model.embed(crops, batch_size=2)
    np.testing.assert_allclose(features, [_expected(c) for c in colours], atol=1e-5)


def test_model_card_overrides_preprocessing(tmp_path):
    path = _pooling_onnx(tmp_path / "m.onnx")
    card = {"input_size": [8, 4], "mean": [0, 0, 0], "std": [1, 1, 1], "colour": "BGR", "method": "tmc"}
    (tmp_path / "m.onnx.json").write_text(json.dumps(card))
    model = ReidModel.load(path)
    assert model.card.extra == {"method": "tmc"}
    feature = model.embed([np.full((9, 9, 3), (30, 40, 0), np.uint8)])[0]
    np.testing.assert_allclose(feature, [0.6, 0.8, 0.0], atol=1e-6)


def test_torchscript_model(tmp_path):
    torch = pytest.importorskip("torch")

    class Pool(torch.nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    torch.jit.script(Pool()).save(str(tmp_path / "m.pt"))
    model = ReidModel.load(tmp_path / "m.pt", device="cpu")
    feature = model.embed([np.full((20, 10, 3), (10, 200, 30), np.uint8)])[0]
    np.testing.assert_allclose(feature, _expected((10, 200, 30)), atol=1e-5)


def test_bad_inputs(tmp_path):
    model = ReidModel.load(_pooling_onnx(tmp_path / "m.onnx"))
    with pytest.raises(ValueError, match="crop 0: expected uint8"):
        model.embed([np.zeros((4, 4, 3), np.float32)])
    with pytest.raises(ValueError, match="crop 1: expected an H x W x 3"):
        model.embed([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)])
    with pytest.raises(InputError, match="model file not found"):
        ReidModel.load(tmp_path / "missing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    with pytest.raises(InputError, match=r"bad\.onnx: cannot load as an ONNX model"):
        ReidModel.load(tmp_path / "bad.onnx")
    (tmp_path / "m.h5").write_bytes(b"")
    with pytest.raises(InputError, match="unknown model format"):
        ReidModel.load(tmp_path / "m.h5")


def test_osnet_onnx_features(shared_data):
    """The real OSNet: 512-d unit features; the same person's crop is closer than a different look."""
    model = ReidModel.load(need(shared_data, "models/osnet_x0_25_msmt17.onnx"))
    rng = np.random.default_rng(0)
    person = rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)
    other = rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)
    shifted = np.clip(person.astype(int) + 10, 0, 255).astype(np.uint8)
    features = model.embed([person, shifted, other])
    assert features.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1, atol=1e-5)
    assert features[0] @ features[1] > features[0] @ features[2]
