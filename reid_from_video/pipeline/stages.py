"""The stages of ``rfv run``, in order: what each one reads, runs and writes.

Every stage is the ``rfv`` command of the same name run on ``RUN/<stage>/`` with its section of the
pipeline config, so a stage's folder is exactly what a user would get from that command by hand.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_from_video.pipeline.config import PipelineConfig


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
    argv: Callable[[Inputs], list[str]]  # the command's arguments (no config: given as an object)
    external: Callable[[Inputs], list[Path]] = lambda _: []  # inputs outside RUN, fingerprinted
    enabled: Callable[[Inputs], bool] = lambda _: True
    adjust: Callable[[Any, Inputs], None] = lambda section, inputs: None  # fill in what the run knows

    def config(self, inputs: Inputs) -> Any:
        """The stage's section of the pipeline config (a copy), adjusted to the run's inputs."""
        section = copy.deepcopy(getattr(inputs.config, self.section))
        self.adjust(section, inputs)
        return section


def _train_eval_data(section: Any, i: Inputs) -> None:
    """Training scores the untrained network, and then every few epochs, on the held-out set (unless set)."""
    if i.eval_data and not section.eval.data:
        section.eval.data = str(i.eval_data)


def _label_argv(i: Inputs) -> list[str]:
    argv = [str(i.folder("track")), "--out", str(i.folder("label"))]
    if i.config.label.method == "tmc":
        argv += ["--model", i.config.label_model]
    return argv + (["--gt", str(i.gt)] if i.gt else [])


def _label_model(i: Inputs) -> list[Path]:
    model = i.config.label_model
    return [Path(model)] if i.config.label.method == "tmc" and model != "histogram" else []


STAGES: tuple[Stage, ...] = (
    Stage(
        "track",
        "track",
        (),
        ("index.csv",),
        lambda i: [str(i.cameras), "--out", str(i.folder("track"))],
        external=lambda i: [i.cameras],
    ),
    Stage(
        "mot-eval",
        "mot_eval",
        ("track",),
        ("summary.json",),
        lambda i: [str(i.gt), str(i.folder("track") / "mot"), "--out", str(i.folder("mot-eval"))],
        external=lambda i: [i.gt] if i.gt else [],
        enabled=lambda i: i.gt is not None,
    ),
    Stage(
        "label",
        "label",
        ("track",),
        ("labels.csv", "sub_tracks.csv"),
        _label_argv,
        external=lambda i: _label_model(i) + ([i.gt] if i.gt else []),
    ),
    Stage(
        "train",
        "train",
        ("track", "label"),
        ("model.pt",),
        lambda i: [
            *[str(i.folder("track")), "--out", str(i.folder("train"))],
            *["--labels", str(i.folder("label"))],
        ],
        external=lambda i: [i.eval_data] if i.eval_data else [],
        adjust=_train_eval_data,
    ),
    Stage(
        "evaluate",
        "evaluate",
        ("train",),
        ("evaluate.json",),
        lambda i: [
            *[str(i.eval_data), "--model", str(i.folder("train") / "model.pt")],
            *["--out", str(i.folder("evaluate"))],
        ],
        external=lambda i: [i.eval_data] if i.eval_data else [],
        enabled=lambda i: i.eval_data is not None,
    ),
    Stage(
        "export",
        "export",
        ("train",),
        ("export.json",),
        lambda i: [
            str(i.folder("train") / "model.pt"),
            "--out",
            str(i.folder("export")),
            "--format",
            i.config.export_format,
        ],
    ),
)
