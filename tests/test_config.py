"""Typed config resolution: defaults < YAML file < key=value overrides, with strict checking."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import yaml

from reid_from_video.core.config import (
    PRESETS_DIR,
    describe_config,
    load_config,
    option,
    save_config,
    section,
)
from reid_from_video.core.errors import ConfigError


@dataclass
class Inner:
    stride: int = option(1, "frame stride")
    scale: float = option(0.5, "a scale")
    size: tuple[int, int] | None = option(None, "width, height")


@dataclass
class Outer:
    name: str = option("run", "a name")
    mode: Literal["sstt", "tmc"] = option("tmc", "labelling method")
    verbose: bool = option(False, "talk more")
    cameras: list[str] = option([], "camera names")
    inner: Inner = section(Inner, "nested section")

    def __post_init__(self) -> None:
        if self.inner.stride < 1:
            raise ValueError("inner.stride must be >= 1")


def test_defaults_when_nothing_given():
    config = load_config(Outer)
    assert config == Outer()
    assert config.inner.scale == 0.5


def test_yaml_then_overrides_in_that_order(tmp_path: Path):
    file = tmp_path / "c.yaml"
    file.write_text("name: fromfile\ninner:\n  stride: 4\n  scale: 2\n")
    config = load_config(Outer, file, ["inner.stride=7", "mode=sstt", "inner.size=[256, 128]"])
    assert config.name == "fromfile"  # from the file
    assert config.inner.stride == 7  # the override wins over the file
    assert config.inner.scale == 2.0 and isinstance(config.inner.scale, float)  # int widened to float
    assert config.mode == "sstt"
    assert config.inner.size == (256, 128)


def test_override_values_are_parsed_as_yaml():
    config = load_config(Outer, None, ["verbose=true", "cameras=[a, b]", "name=123"])
    assert config.verbose is True
    assert config.cameras == ["a", "b"]
    assert config.name == "123"


def test_exponent_without_a_dot_is_a_number():
    # YAML 1.1 reads 1e-3 as a string; a float field takes it as the number it means.
    assert load_config(Outer, None, ["inner.scale=1e-3"]).inner.scale == 1e-3
    with pytest.raises(ConfigError, match="inner.scale: expected a number"):
        load_config(Outer, None, ["inner.scale=fast"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("inner.strid=2", "unknown key 'inner.strid'; valid keys: inner.stride, inner.scale, inner.size"),
        ("bogus=1", "valid keys: name, mode, verbose, cameras, inner"),
        ("inner.stride=two", "inner.stride: expected an integer, got 'two'"),
        ("inner.stride=1.5", "inner.stride: expected an integer"),
        ("verbose=yes please", "verbose: expected true or false"),
        ("mode=dbscan", "mode: 'dbscan' is not one of 'sstt', 'tmc'"),
        ("inner.size=[1, 2, 3]", "inner.size"),
        ("inner=3", "'inner' is a section"),
        ("novalue", "expected key=value"),
        ("inner.stride=0", "inner.stride must be >= 1"),
    ],
)
def test_bad_overrides_are_rejected_with_a_clear_message(override: str, message: str):
    with pytest.raises(ConfigError) as caught:
        load_config(Outer, None, [override])
    assert message in str(caught.value)


def test_unknown_key_in_file_names_the_file(tmp_path: Path):
    file = tmp_path / "bad.yaml"
    file.write_text("inner:\n  stridee: 2\n")
    with pytest.raises(ConfigError) as caught:
        load_config(Outer, file)
    assert str(file) in str(caught.value) and "inner.stridee" in str(caught.value)


def test_file_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(Outer, tmp_path / "missing.yaml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(Outer, listing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Outer, broken)


def test_saved_config_loads_back_identically(tmp_path: Path):
    config = load_config(Outer, None, ["inner.size=[64, 32]", "cameras=[c1]", "inner.stride=3"])
    path = save_config(config, tmp_path / "out")
    assert path == tmp_path / "out" / "config.yaml"
    assert yaml.safe_load(path.read_text())["inner"] == {"stride": 3, "scale": 0.5, "size": [64, 32]}
    assert load_config(Outer, path) == config


def test_describe_lists_every_key_with_default_and_help():
    lines = describe_config(Outer)
    assert lines[0] == "name=run  a name"
    assert "inner.*  nested section" in lines
    assert "inner.stride=1  frame stride" in lines
    assert len(lines) == 4 + 1 + 3  # four keys, the section's line, its three keys


def test_every_preset_loads_into_its_stage_config():
    """Each YAML under reid_from_video/configs/ is named after its stage (configs/<stage>.yaml or
    configs/<stage>/*.yaml) or lies in the preset folder its command names (rfv run: configs/pipeline/), or,
    for the standalone trackers package, configs/trackers/*.yaml holds tracker settings."""
    from reid_from_video.cli import COMMANDS
    from rfv_trackers import DeepSortConfig

    sections = {"trackers": DeepSortConfig}  # presets of a section, not of a command
    folders = {cmd.presets: cmd for cmd in COMMANDS.values()}
    presets = sorted(PRESETS_DIR.rglob("*.yaml"))
    assert presets, f"no presets under {PRESETS_DIR}"
    for preset in presets:
        stage = preset.relative_to(PRESETS_DIR).parts[0].removesuffix(".yaml")
        if stage in sections:
            load_config(sections[stage], preset)
            continue
        command = COMMANDS.get(stage) or folders.get(stage)
        assert command is not None, f"{preset}: no command {stage!r}"
        load_config(command.config, preset)


def test_a_section_with_a_shorthand_takes_one_value():
    from reid_from_video.tracking.config import TrackConfig

    config = load_config(TrackConfig, None, ["embedder=runs/export/model.onnx", "embedder.batch=8"])
    assert (config.embedder.backend, config.embedder.weights, config.embedder.batch) == (
        "onnx",
        "runs/export/model.onnx",
        8,
    )
    assert load_config(TrackConfig, None, ["embedder=runs/train/model.pt"]).embedder.backend == "torch"
    assert load_config(TrackConfig, None, ["embedder=histogram"]).embedder.backend == "histogram"
    with pytest.raises(ConfigError, match="is a section"):
        load_config(TrackConfig, None, ["tracker=3"])
