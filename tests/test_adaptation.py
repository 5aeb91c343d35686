"""Adapting a pretrained network (issue 18, part 2): TMC's first labels come from the network training starts
from, training's "before" is that network, and the summary and report say pretrained -> adapted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reid_from_video.core.config import load_config
from reid_from_video.labels.config import HISTOGRAM, NETWORK, LabelConfig
from reid_from_video.labels.features import model_embedder
from reid_from_video.models.config import ModelConfig
from reid_from_video.pipeline.config import PipelineConfig
from reid_from_video.pipeline.stages import STAGES, Inputs
from reid_from_video.report.learning import start_names
from reid_from_video.report.sections import TrainStage
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.result import PRETRAINED, UNTRAINED
from reid_from_video.train.run import run_train

TINY = ["model.backbone=tiny", "model.weights=none", "model.input_size=[64, 32]"]
SMALL = ["data.workers=0", "threads=1", "progress=false", "channels_last=false", "epochs=1", "data.iters=2"]


def train(mars_world: Path, out: Path, *overrides: str):
    config = load_config(
        TrainConfig, None, ["method=taudl", "data.p=12", *SMALL, *TINY, *overrides], stage="train"
    )
    return run_train(mars_world / "mars", out, config)


@pytest.fixture(scope="module")
def runs(mars_world: Path, tmp_path_factory: pytest.TempPathFactory):
    """A network trained from random weights, then a second run that starts from it (model.init)."""
    root = tmp_path_factory.mktemp("adaptation")
    evaluation = f"eval.data={mars_world / 'mars'}"
    first = train(mars_world, root / "a", evaluation)
    second = train(mars_world, root / "b", evaluation, f"model.init={root / 'a' / 'model.pt'}")
    return root, first, second


def test_a_run_from_random_weights_is_untrained_to_trained(runs):
    _, first, _ = runs
    assert first.start == UNTRAINED
    assert first.summary().endswith("(untrained -> trained)")


def test_a_run_from_a_pretrained_network_is_pretrained_to_adapted(runs):
    root, first, second = runs
    assert second.start == PRETRAINED
    assert second.summary().endswith("(pretrained -> adapted)")
    assert "pretrained -> adapted" in second.report()
    # "before" is the network it started from: the first run's result, scored on the same held-out set
    assert second.before.mAP == first.after.mAP
    stage = TrainStage(root / "b", second, None, None)
    assert start_names(stage) == ("pretrained", "adapted")
    assert start_names(None) == ("untrained", "trained")


def _crops(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        rng.integers(0, 256, (int(rng.integers(40, 90)), int(rng.integers(20, 45)), 3), np.uint8)
        for _ in range(count)
    ]


def test_label_features_from_the_start_network_are_those_of_its_file(runs):
    """``--model network`` builds the network of the model section as training starts from it; started from
    an rfv model.pt, its features are those of the same file loaded as a model (an independent path:
    embed.source rebuilds it from the checkpoint)."""
    root, _, _ = runs
    init = root / "a" / "model.pt"
    network = LabelConfig(
        device="cpu", model=ModelConfig(backbone="tiny", weights="none", init=str(init), input_size=(64, 32))
    )
    crops = _crops(12, seed=0)
    from_network = model_embedder(NETWORK, network).embed(crops)
    from_file = model_embedder(init, LabelConfig(device="cpu")).embed(crops)
    assert from_network.shape == from_file.shape == (12, 192)
    np.testing.assert_allclose(from_network, from_file, atol=1e-5)
    random = LabelConfig(
        device="cpu", model=ModelConfig(backbone="tiny", weights="none", input_size=(64, 32))
    )
    assert not np.allclose(model_embedder(NETWORK, random).embed(crops), from_file, atol=1e-3)


def pipeline(*overrides: str) -> PipelineConfig:
    return load_config(PipelineConfig, "tmc", list(overrides), stage="pipeline")


def test_auto_label_features_follow_where_training_starts(tmp_path):
    assert pipeline().label_features() == NETWORK  # ImageNet ResNet-50: pretrained
    assert pipeline("train.model.backbone=tiny", "train.model.weights=none").label_features() == HISTOGRAM
    init = tmp_path / "start.pt"
    tiny_from_file = ["train.model.backbone=tiny", "train.model.weights=none", f"train.model.init={init}"]
    assert pipeline(*tiny_from_file).label_features() == NETWORK
    assert pipeline(*tiny_from_file, "label_model=histogram").label_features() == HISTOGRAM


def test_the_label_stage_builds_train_model_and_keys_on_its_file(tmp_path):
    init = tmp_path / "osnet.onnx"
    config = pipeline(
        "train.model.backbone=osnet_x0_25", f"train.model.init={init}", "train.model.weights=none"
    )
    inputs = Inputs(tmp_path / "cameras", tmp_path / "run", None, None, config)
    label = next(s for s in STAGES if s.name == "label")
    assert label.paths(inputs)["model"] == NETWORK
    assert label.config(inputs).model == config.train.model
    assert label.external(inputs) == [init]  # its content is in the label stage's key
    trainer = next(s for s in STAGES if s.name == "train")
    assert init in trainer.external(inputs)
    histogram = pipeline("label_model=histogram")
    plain = Inputs(tmp_path / "cameras", tmp_path / "run", None, None, histogram)
    assert label.paths(plain)["model"] == HISTOGRAM
    assert label.config(plain).model == ModelConfig()  # untouched: the label stage builds no network
    assert label.external(plain) == []


def test_a_run_without_held_out_data_still_says_what_it_made_of_its_start(runs, mars_world, tmp_path):
    root, _, _ = runs
    result = train(mars_world, tmp_path / "c", f"model.init={root / 'a' / 'model.pt'}")
    assert result.before is None and result.after is None
    assert result.summary().endswith("pretrained -> adapted (no held-out data to score them: eval_data)")
