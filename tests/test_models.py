"""reid_from_video.models: backbones, pooling, heads and ReidNet, on a CPU, with no network.

Randomly initialised ResNets warn that they start untrained; the tests that build one on purpose silence
that warning (``UNTRAINED``), and one test checks it is emitted once.
"""

from __future__ import annotations

import urllib.error
import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision

from reid_from_video.core.config import describe_config, load_config
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.losses.taudl import pctd_loss
from reid_from_video.models.backbones import build_backbone
from reid_from_video.models.config import BACKBONES, ModelConfig
from reid_from_video.models.heads import BNNeck, CameraClassifiers, Classifier
from reid_from_video.models.pooling import GeM, build_pooling
from reid_from_video.models.reid_net import (
    ReidNet,
    ReidOutput,
    build_model,
    classifier_sizes,
    model_from_state,
)

UNTRAINED = "ignore:backbone .* starts from random weights"


def tiny(**fields) -> ModelConfig:
    return ModelConfig(**{"backbone": "tiny", "weights": "none", **fields})


def images(n: int, height: int = 256, width: int = 128, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, height, width, generator=torch.Generator().manual_seed(seed))


# --- backbones and the network's outputs ---------------------------------------------------------------


@pytest.mark.filterwarnings(UNTRAINED)
@pytest.mark.parametrize(
    ("backbone", "size", "channels", "grid"),
    [
        ("tiny", (256, 128), 192, (16, 8)),
        ("resnet18", (256, 128), 512, (16, 8)),
        ("resnet50", (64, 32), 2048, (4, 2)),  # small input: fast on a CPU
    ],
)
def test_output_shapes_train_and_eval(backbone, size, channels, grid):
    model = build_model(ModelConfig(backbone=backbone, weights="none"), num_classes=7)
    assert model.channels == channels == BACKBONES[backbone].channels
    assert model.feature_dim == channels
    maps = []
    model.backbone.register_forward_hook(lambda module, inputs, output: maps.append(output.shape))
    x = images(2, *size)
    with torch.no_grad():
        out = model.train()(x)
        assert tuple(maps[0]) == (2, channels, *grid)  # last stride 1: overall stride 16
        assert isinstance(out, ReidOutput)
        assert tuple(out.features.shape) == (2, channels)
        assert tuple(out.neck_features.shape) == (2, channels)
        assert tuple(out.logits.shape) == (2, 7)
        inference = model.eval()(x[:1])
    assert isinstance(inference, torch.Tensor)
    assert tuple(inference.shape) == (1, channels)
    assert torch.allclose(inference.norm(dim=1), torch.ones(1), atol=1e-5)


@pytest.mark.filterwarnings(UNTRAINED)
@pytest.mark.parametrize(("backbone", "grids"), [("tiny", ((8, 4), (4, 2))), ("resnet18", ((8, 4), (4, 2)))])
def test_last_stride(backbone, grids):
    x = images(1, 128, 64)
    for last_stride, grid in zip((1, 2), grids, strict=True):
        module, _ = build_backbone(backbone, "none", last_stride)
        with torch.no_grad():
            assert tuple(module.eval()(x).shape[2:]) == grid


def test_tiny_is_small():
    module, channels = build_backbone("tiny", "none")
    assert 100_000 <= sum(p.numel() for p in module.parameters()) <= 300_000
    assert 128 <= channels <= 256


def test_eval_features_are_unit_length_and_no_logits_without_classifier():
    model = build_model(tiny(), num_classes=None)
    x = images(4, 128, 64)
    out = model.train()(x)
    assert out.logits is None
    features = model.eval()(x)
    assert torch.allclose(features.norm(dim=1), torch.ones(4), atol=1e-5)
    # The inference feature is the neck's output (running statistics in eval mode), normalised.
    with torch.no_grad():
        pooled = model.pool(model.backbone(x))
        assert torch.allclose(features, F.normalize(model.neck(pooled), dim=1), atol=1e-6)


def test_embedding_reduction_and_no_neck():
    model = build_model(tiny(embedding_dim=32, neck="none"), num_classes=5)
    x = images(3, 128, 64)
    out = model.train()(x)
    assert tuple(out.features.shape) == (3, 32) and tuple(out.logits.shape) == (3, 5)
    assert torch.equal(out.features, out.neck_features)  # neck none: the identity
    assert isinstance(model.embedding, torch.nn.Linear) and model.feature_dim == 32
    assert tuple(model.eval()(x).shape) == (3, 32)


# --- pooling --------------------------------------------------------------------------------------------


def test_gem_is_average_pooling_at_p_1():
    x = torch.rand(2, 4, 6, 3, dtype=torch.float64) + 0.1
    gem = GeM(p=1.0).double()
    assert torch.allclose(gem(x), x.mean(dim=(2, 3)), atol=1e-12)
    assert torch.allclose(build_pooling("avg")(x), x.mean(dim=(2, 3)), atol=1e-12)


def test_gem_tends_to_max_pooling_at_large_p():
    x = torch.rand(2, 4, 16, 8, dtype=torch.float64) + 0.1
    peak = x.amax(dim=(2, 3))
    # (mean x^p)^(1/p) lies in [max * (1/HW)^(1/p), max]: at p = 200 and HW = 128, within 2.5% of the max.
    pooled = GeM(p=200.0).double()(x)
    assert torch.all(pooled <= peak + 1e-12)
    assert torch.all(pooled >= peak * (1 / 128) ** (1 / 200) - 1e-12)
    # One hand value: [1, 2, 3, 4] at p = 3 is (100 / 4)^(1/3).
    one = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64).view(1, 1, 2, 2)
    with torch.no_grad():
        assert abs(float(GeM().double()(one)) - 25 ** (1 / 3)) < 1e-12


def test_gem_p_is_learnt_and_configurable():
    gem = build_pooling("gem", gem_p=4.0)
    assert isinstance(gem.p, torch.nn.Parameter) and float(gem.p.detach()) == 4.0
    gem(torch.rand(2, 3, 4, 4) + 0.5).sum().backward()
    assert gem.p.grad is not None and gem.p.grad.abs().item() > 0
    assert not isinstance(GeM(learnable=False).p, torch.nn.Parameter)
    model = build_model(tiny(pooling="gem", gem_p=2.5))
    assert float(model.pool.p.detach()) == 2.5
    with pytest.raises(ValueError, match="p must be > 0"):
        GeM(p=0)


# --- heads ----------------------------------------------------------------------------------------------


def test_bnneck_bias_is_frozen():
    model = build_model(tiny(), num_classes=4)
    neck = model.neck
    assert isinstance(neck, BNNeck)
    assert neck.bias.requires_grad is False and neck.weight.requires_grad is True
    assert torch.all(neck.bias == 0) and torch.all(neck.weight == 1)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    out = model.train()(images(4, 128, 64))
    F.cross_entropy(out.logits, torch.tensor([0, 1, 2, 3])).backward()
    optimizer.step()
    assert neck.bias.grad is None and torch.all(neck.bias == 0)
    assert neck.weight.grad is not None
    assert model.classifier.weight.grad is not None


def test_classifier_has_no_bias():
    model = build_model(tiny(), num_classes=9)
    assert isinstance(model.classifier, Classifier)
    assert [name for name, _ in model.classifier.named_parameters()] == ["weight"]
    assert tuple(model.classifier.weight.shape) == (9, 192)


def test_per_camera_branches():
    model = build_model(tiny(), num_classes=[3, 5, 2])
    assert isinstance(model.classifier, CameraClassifiers)
    assert model.num_classes == [3, 5, 2]
    out = model.train()(images(4, 128, 64))
    assert [tuple(logits.shape) for logits in out.logits] == [(4, 3), (4, 5), (4, 2)]
    # The list is what TAUDL's PCTD loss takes: branch t is camera t's.
    loss = pctd_loss(out.logits, labels=torch.tensor([2, 4, 1, 0]), cameras=torch.tensor([0, 1, 2, 1]))
    loss.backward()
    assert all(branch.weight.grad is not None for branch in model.classifier.branches)
    with pytest.raises(ValueError, match="per-camera"):
        model.reset_classifier(torch.randn(3, 192))


def test_reset_classifier_from_centroids():
    model = build_model(tiny(), num_classes=4)
    classifier = model.classifier
    parameter = classifier.weight
    centroids = torch.randn(4, 192, generator=torch.Generator().manual_seed(1)) * 5
    assert model.reset_classifier(centroids) is False  # same size: copied in place
    assert classifier.weight is parameter
    assert torch.allclose(parameter, F.normalize(centroids, dim=1))
    assert torch.allclose(parameter.norm(dim=1), torch.ones(4))
    # Another number of clusters: a new parameter, and the logits follow.
    assert model.reset_classifier(torch.randn(6, 192).abs()) is True
    assert tuple(model.classifier.weight.shape) == (6, 192) and model.num_classes == 6
    assert torch.allclose(model.classifier.weight.norm(dim=1), torch.ones(6))
    assert tuple(model.train()(images(2, 128, 64)).logits.shape) == (2, 6)
    with pytest.raises(ValueError, match="centroids must be K x 192"):
        model.reset_classifier(torch.randn(6, 10))
    # A model without a classifier gets one.
    bare = build_model(tiny())
    assert bare.reset_classifier(torch.randn(3, 192)) is True
    assert bare.num_classes == 3 and torch.allclose(bare.classifier.weight.norm(dim=1), torch.ones(3))


# --- weights ------------------------------------------------------------------------------------------


def test_state_dict_file_loads(tmp_path):
    reference = torchvision.models.resnet18(weights=None)  # an "ImageNet" state dict: fc included
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a file: no "untrained" warning
        module, channels = build_backbone("resnet18", str(path))
    assert channels == 512
    assert torch.equal(module.conv1.weight, reference.conv1.weight)
    assert torch.equal(module.layer4[1].bn2.running_var, reference.layer4[1].bn2.running_var)
    model = build_model(ModelConfig(backbone="resnet18", weights=str(path)))
    assert torch.equal(model.backbone.layer3[0].conv1.weight, reference.layer3[0].conv1.weight)


def test_mismatched_state_dict_file_names_the_file(tmp_path):
    path = tmp_path / "resnet18.pth"
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), path)
    with pytest.raises(InputError, match="does not match the resnet50 backbone") as caught:
        build_backbone("resnet50", str(path))
    assert str(path) in str(caught.value)
    assert "missing keys" in str(caught.value) and "wrong shapes" in str(caught.value)
    # One extra key is enough.
    module, _ = build_backbone("tiny", "none")
    state = {**module.state_dict(), "head.weight": torch.zeros(3)}
    torch.save(state, path)
    with pytest.raises(InputError, match=r"1 unexpected keys \(head.weight\)"):
        build_backbone("tiny", str(path))


def test_unreadable_weights_files(tmp_path):
    missing = tmp_path / "nope.pth"
    with pytest.raises(InputError, match="weights file not found") as caught:
        build_backbone("tiny", str(missing))
    assert str(missing) in str(caught.value)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot load as a state dict") as caught:
        build_backbone("tiny", str(garbage))
    assert str(garbage) in str(caught.value)


def test_imagenet_without_network_says_to_give_a_path(monkeypatch):
    calls = []

    def offline(self, *args, **kwargs):
        calls.append(self)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.models.WeightsEnum, "get_state_dict", offline)
    with pytest.raises(ConfigError, match="weights=imagenet: cannot fetch") as caught:
        build_model(ModelConfig(backbone="resnet50", weights="imagenet"))
    message = str(caught.value)
    assert "ResNet50_Weights.IMAGENET1K_V1" in message and "weights=/path/to/resnet50-0676ba61.pth" in message
    assert calls == [torchvision.models.ResNet50_Weights.IMAGENET1K_V1]
    with pytest.raises(ValueError, match="tiny has no ImageNet weights"):
        ModelConfig(backbone="tiny", weights="imagenet")


def test_untrained_warning_once():
    with pytest.warns(UserWarning, match="resnet18 starts from random weights") as caught:
        build_model(ModelConfig(backbone="resnet18", weights="none"), num_classes=3)
    assert len([w for w in caught if "random weights" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_model(tiny())  # no pretrained weights exist for it: nothing to warn about
        build_model(ModelConfig(backbone="resnet18", weights="none"), load_weights=False)  # a checkpoint next


# --- export and checkpoints -----------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:`torch.jit.trace.*` is deprecated:FutureWarning")
def test_traced_eval_model_matches_eager():
    model = build_model(tiny(pooling="gem", embedding_dim=64), num_classes=5)
    model.train()(images(4, 128, 64))  # move the BN running statistics away from their initial values
    model.eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, images(2, 128, 64))
        for n in (2, 3):  # another batch size than the example's
            x = images(n, 128, 64, seed=n)
            assert torch.allclose(traced(x), model(x), atol=1e-5)


def test_channels_last():
    model = build_model(tiny(pooling="gem")).eval()
    x = images(2, 128, 64)
    with torch.no_grad():
        expected = model(x)
        model = model.to(memory_format=torch.channels_last)
        assert torch.allclose(model(x.contiguous(memory_format=torch.channels_last)), expected, atol=1e-5)


def test_config_round_trip_and_checkpoint(tmp_path):
    config = tiny(pooling="gem", embedding_dim=48, input_size=[192, 96], colour="BGR")
    assert config.input_size == (192, 96) and isinstance(config.mean, tuple)
    data = config.to_dict()
    assert data["input_size"] == [192, 96] and data["backbone"] == "tiny"
    assert ModelConfig.from_dict(data) == config
    model = build_model(config, num_classes=[3, 4])
    model.train()(images(4, 192, 96))
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": config.to_dict(), "state_dict": model.state_dict()}, path)
    checkpoint = torch.load(path, weights_only=True)
    assert classifier_sizes(checkpoint["state_dict"]) == [3, 4]
    restored = model_from_state(checkpoint["model"], checkpoint["state_dict"])
    assert restored.num_classes == [3, 4] and restored.config == config
    inference = model_from_state(checkpoint["model"], checkpoint["state_dict"], classifier=False)
    assert inference.classifier is None
    x = images(2, 192, 96, seed=5)
    with torch.no_grad():
        assert torch.allclose(restored.eval()(x), model.eval()(x), atol=1e-6)
        assert torch.allclose(inference.eval()(x), model(x), atol=1e-6)
    assert classifier_sizes(build_model(tiny(), 7).state_dict()) == 7
    assert classifier_sizes(build_model(tiny()).state_dict()) is None


def test_config_validation():
    with pytest.raises(ConfigError, match="unknown key 'depth'"):
        ModelConfig.from_dict({"depth": 50})
    with pytest.raises(ConfigError, match="pooling"):
        ModelConfig.from_dict({"pooling": "max"})
    for fields, match in [
        ({"backbone": "vgg"}, "unknown backbone"),
        ({"last_stride": 3}, "last_stride"),
        ({"embedding_dim": -1}, "embedding_dim"),
        ({"input_size": [256]}, "input_size"),
        ({"std": [0.2, 0.0, 0.2]}, "std"),
        ({"neck": "bn"}, "neck"),
    ]:
        with pytest.raises(ValueError, match=match):
            tiny(**fields)
    config = load_config(ModelConfig, overrides=["backbone=tiny", "weights=none", "input_size=[128, 64]"])
    assert config.backbone == "tiny" and config.input_size == (128, 64)
    assert any(line.startswith("weights=imagenet") for line in describe_config(ModelConfig))
    with pytest.raises(ValueError, match="num_classes"):
        ReidNet(tiny(), num_classes=2.5)
