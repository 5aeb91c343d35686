"""The stages of ``rfv run``, in order: what each one reads, runs and writes.

Every stage calls the function behind the ``rfv`` command of the same name (``run_track``, ``run_label``,
...) with typed inputs, ``RUN/<stage>/`` as its folder and its section of the pipeline config, so a stage's
folder is exactly what a user would get from that command by hand.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_from_video.associate.inputs import associate_inputs
from reid_from_video.core.device import resolve_device
from reid_from_video.core.errors import DegenerateLabelsError, MissingInput, SettingError
from reid_from_video.io.results import StageResult
from reid_from_video.labels.config import HISTOGRAM, NETWORK
from reid_from_video.models.config import IMAGENET, NO_WEIGHTS, ModelConfig
from reid_from_video.pipeline.config import PipelineConfig
from reid_from_video.tracking.inputs import track_inputs
from reid_from_video.train.inputs import train_inputs

Paths = dict[str, Path | str | None]  # a stage function's inputs by name: files, folders (or a model name)


@dataclass(frozen=True)
class Inputs:
    """What the stages read that no stage wrote."""

    cameras: Path
    run: Path
    gt: Path | None
    eval_data: Path | None
    config: PipelineConfig

    def folder(self, stage: str) -> Path:
        return self.run / stage


@dataclass(frozen=True)
class Stage:
    name: str  # the rfv command, and the folder under RUN
    section: str  # attribute of PipelineConfig
    upstream: tuple[str, ...]  # stages whose outputs it reads
    outputs: tuple[str, ...]  # its main files (under its folder): hashed into the keys of later stages
    paths: Callable[[Inputs], Paths]  # the stage function's inputs (its config is given as an object)
    call: Callable[[Paths, Path, Any], StageResult]  # the stage function: (inputs, its folder, its config)
    external: Callable[[Inputs], list[Path]] = lambda _: []  # inputs outside RUN, fingerprinted
    enabled: Callable[[Inputs], bool] = lambda _: True
    adjust: Callable[[Any, Inputs], None] = lambda section, inputs: None  # fill in what the run knows
    # its missing input files and model names: (its section, key prefix) -> what rfv run reports up front
    check: Callable[[Any, str], list[MissingInput]] = lambda section, prefix: []

    def config(self, inputs: Inputs) -> Any:
        """The stage's section of the pipeline config (a copy), adjusted to the run's inputs."""
        section = copy.deepcopy(getattr(inputs.config, self.section))
        self.adjust(section, inputs)
        return section


def _path(value: Path | str | None) -> Path:
    if value is None:
        raise ValueError("a required stage input is missing")
    return Path(value)


def _track(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.tracking.run import run_track

    return run_track(_path(paths["cameras"]), out, config)


def _mot_eval(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.noise.mot_eval import run_mot_eval

    return run_mot_eval(_path(paths["gt"]), _path(paths["results"]), out, config)


def _label(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.labels.run import run_label

    try:
        return run_label(_path(paths["store"]), out, config, model=paths["model"], gt=paths["gt"])
    except (DegenerateLabelsError, SettingError) as error:
        raise error.under("label.") from None


def _train(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.train import run  # looked up at call time: tests replace run.run_train

    try:
        result = run.run_train(_path(paths["data"]), out, config, labels=paths["labels"])
    except SettingError as error:
        raise error.under("train.") from None
    if result is None:
        raise RuntimeError("rfv run trains in one process: run torchrun with rfv train")
    return result


def _evaluate(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.evaluate.evaluation import run_evaluate

    return run_evaluate(_path(paths["data"]), out, config, model=paths["model"])


def _export(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.export.pipeline import run_export

    return run_export(_path(paths["checkpoint"]), out, config)


def _associate(paths: Paths, out: Path, config: Any) -> StageResult:
    from reid_from_video.associate.run import run_associate
    from reid_from_video.report.identities import write_identities_page

    result = run_associate(_path(paths["store"]), out, config, _path(paths["model"]))
    write_identities_page(out, config.max_identities)
    return result


def _train_section(section: Any, i: Inputs) -> None:
    """The device resolved (``auto`` -> cpu or cuda), so that the stage's key tells a run on a CPU (its
    ``cpu_schedule``) from one on a GPU; training scores the untrained network, and then every few epochs,
    on the held-out set (unless set)."""
    section.device = resolve_device(section.device)
    if i.eval_data and not section.eval.data:
        section.eval.data = str(i.eval_data)


def _label_paths(i: Inputs) -> Paths:
    model = i.config.label_features() if i.config.label.method == "tmc" else None
    return {"store": i.folder("track"), "model": model, "gt": i.gt}


def _label_network(section: Any, i: Inputs) -> None:
    """TMC's first labels from the network training starts from: the label stage builds train.model."""
    if i.config.label.method == "tmc" and i.config.label_features() == NETWORK:
        section.model = copy.deepcopy(i.config.train.model)


def _label_model(i: Inputs) -> list[Path]:
    """The files the label stage's features come from (fingerprinted into its key)."""
    if i.config.label.method != "tmc":
        return []
    model = i.config.label_features()
    if model == NETWORK:
        return _model_files(i.config.train.model)
    return [] if model == HISTOGRAM else [Path(model)]


def _model_files(model: ModelConfig) -> list[Path]:
    """The files a network is built from (model.init, a model.weights path): their content is in the keys."""
    files = [model.init] if model.init else []
    if model.weights not in (NO_WEIGHTS, IMAGENET) and not model.init:
        files.append(model.weights)
    return [Path(f) for f in files]


STAGES: tuple[Stage, ...] = (
    Stage(
        "track",
        "track",
        (),
        ("index.csv",),
        lambda i: {"cameras": i.cameras},
        _track,
        external=lambda i: [i.cameras],
        check=track_inputs,
    ),
    Stage(
        "mot-eval",
        "mot_eval",
        ("track",),
        ("summary.json",),
        lambda i: {"gt": i.gt, "results": i.folder("track") / "mot"},
        _mot_eval,
        external=lambda i: [i.gt] if i.gt else [],
        enabled=lambda i: i.gt is not None,
    ),
    Stage(
        "label",
        "label",
        ("track",),
        ("labels.csv", "sub_tracks.csv"),
        _label_paths,
        _label,
        external=lambda i: _label_model(i) + ([i.gt] if i.gt else []),
        adjust=_label_network,
    ),
    Stage(
        "train",
        "train",
        ("track", "label"),
        ("model.pt",),
        lambda i: {"data": i.folder("track"), "labels": i.folder("label")},
        _train,
        external=lambda i: _model_files(i.config.train.model) + ([i.eval_data] if i.eval_data else []),
        adjust=_train_section,
        check=train_inputs,
    ),
    Stage(
        "evaluate",
        "evaluate",
        ("train",),
        ("evaluate.json",),
        lambda i: {"data": i.eval_data, "model": i.folder("train") / "model.pt"},
        _evaluate,
        external=lambda i: [i.eval_data] if i.eval_data else [],
        enabled=lambda i: i.eval_data is not None,
    ),
    Stage(
        "export",
        "export",
        ("train",),
        ("export.json",),
        lambda i: {"checkpoint": i.folder("train") / "model.pt"},
        _export,
    ),
    Stage(
        "associate",
        "associate",
        ("track", "train"),
        ("journeys.csv",),
        lambda i: {"store": i.folder("track"), "model": i.folder("train") / "model.pt"},
        _associate,
        external=lambda i: [Path(i.config.associate.topology)] if i.config.associate.topology else [],
        check=associate_inputs,
    ),
)
