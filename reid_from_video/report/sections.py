"""Readers of a run folder, one per stage: each returns the stage's typed result (read through its class,
e.g. :class:`~reid_from_video.tracking.result.TrackResult`) with what else the report shows of the folder,
or None when the stage's folder is absent, and raises
:class:`~reid_from_video.core.errors.InputError` naming the file when a file is there but unreadable.

The run layout (``rfv run CAMERA_FOLDER --out RUN``; every stage folder is what that stage's own command
writes with ``--out RUN/<stage>``)::

    RUN/run.json        {"stages": [{"name", "seconds", "status"}, ...], "camera_folder", "gt", "eval_data",
                        "config" (RUN/config.yaml, or the config itself)}
    RUN/track/          rfv track: summary.json, index.csv, crops/, mot/<camera>.txt
    RUN/mot-eval/       rfv mot-eval: summary.json (per sequence and COMBINED: clear, hota, noise)
    RUN/label/          rfv label: label_report.json, labels.csv, sub_tracks.csv (TMC)
    RUN/train/          rfv train: train_report.json, epochs.csv, steps.csv, model.pt
    RUN/evaluate/       rfv evaluate: evaluate.json (and */evaluate.json: further models, e.g. baseline/)
    RUN/export/         rfv export: export.json, model.onnx (model.torchscript.pt) and a card <model>.json
    RUN/<stage>/stage.json  rfv run's record of the stage: {"stage", "key", "status", "seconds"}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reid_from_video.associate.result import AssociateResult
from reid_from_video.core.errors import InputError
from reid_from_video.core.layout import RUN_FILE, stage_dir
from reid_from_video.evaluate.result import EvaluateResult
from reid_from_video.export.result import ExportResult
from reid_from_video.io.results import JsonObject, read_object
from reid_from_video.labels.result import LabelResult
from reid_from_video.noise.result import MotEvalResult
from reid_from_video.report.html import number
from reid_from_video.tracking.result import TrackResult
from reid_from_video.train.result import TrainResult

Row = dict[str, Any]  # a row of a CSV log: column -> value
MAIN_RESULT = "trained model"  # the name of evaluate/evaluate.json; evaluate/<name>/evaluate.json: <name>


def read_json(path: Path) -> Any:
    """The JSON content of ``path``; an :class:`InputError` naming the file when it is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, f"cannot read as JSON: {error}") from None


def read_table(path: Path) -> pd.DataFrame:
    """A CSV table (camera names kept as strings); an :class:`InputError` naming the file when unreadable."""
    try:
        return pd.read_csv(path, dtype={"camera": str})
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(path, f"cannot read the table: {error}") from None


def _optional(path: Path) -> JsonObject | None:
    return read_object(path) if path.is_file() else None


def read_run(run: Path) -> dict[str, Any] | None:
    """RUN/run.json: the stages in run order with seconds and status, the camera folder and the config."""
    path = run / RUN_FILE
    data = _optional(path)
    if data is None:
        return None
    stages = data.get("stages", [])
    if not isinstance(stages, list) or not all(isinstance(s, dict) and "name" in s for s in stages):
        raise InputError(path, "'stages' must be a list of objects with a 'name'")
    data["stages"] = [
        {"name": str(s["name"]), "seconds": number(s.get("seconds")), "status": str(s.get("status", "?"))}
        for s in stages
    ]
    return data


@dataclass(frozen=True)
class TrackStage:
    folder: Path
    result: TrackResult | None  # None: summary.json absent (tracking did not finish)
    index: bool  # index.csv is there
    mot_files: list[str]


@dataclass(frozen=True)
class MotEvalStage:
    folder: Path
    result: MotEvalResult


@dataclass(frozen=True)
class LabelStage:
    folder: Path
    result: LabelResult | None
    labels_file: bool
    sub_tracks_file: bool
    units_per_label: dict[int, int]  # label -> (sub-)tracklets


@dataclass(frozen=True)
class TrainStage:
    folder: Path
    result: TrainResult | None
    epochs: list[Row] | None  # epochs.csv rows without their empty cells
    steps: list[Row] | None  # steps.csv rows


@dataclass(frozen=True)
class EvaluateStage:
    folder: Path
    results: dict[str, EvaluateResult]  # MAIN_RESULT, and further models by their sub-folder


@dataclass(frozen=True)
class ExportStage:
    folder: Path
    result: ExportResult | None
    files: list[tuple[str, int]]  # (name, bytes)
    cards: dict[str, JsonObject]  # model file card name -> the model card


@dataclass(frozen=True)
class AssociateStage:
    folder: Path
    result: AssociateResult | None
    page: bool  # identities.html is there


def read_associate(run: Path) -> AssociateStage | None:
    """RUN/associate/: associate.json (:class:`AssociateResult`) and whether identities.html exists."""
    folder = stage_dir(run, "associate")
    if not folder.is_dir():
        return None
    return AssociateStage(
        folder, AssociateResult.read_optional(folder), (folder / "identities.html").is_file()
    )


def read_track(run: Path) -> TrackStage | None:
    """RUN/track/summary.json (:class:`TrackResult`), with which of index.csv and mot/ exist."""
    folder = stage_dir(run, "track")
    if not folder.is_dir():
        return None
    mot = folder / "mot"
    mot_files = sorted(p.name for p in mot.glob("*.txt")) if mot.is_dir() else []
    return TrackStage(folder, TrackResult.read_optional(folder), (folder / "index.csv").is_file(), mot_files)


def read_mot_eval(run: Path) -> MotEvalStage | None:
    """RUN/mot-eval/summary.json (:class:`MotEvalResult`)."""
    folder = stage_dir(run, "mot-eval")
    if not folder.is_dir():
        return None
    return MotEvalStage(folder, MotEvalResult.read(folder))


def read_label(run: Path) -> LabelStage | None:
    """RUN/label/: label_report.json (:class:`LabelResult`) and labels.csv (camera, track[, sub_track],
    label: the tracklets per label)."""
    folder = stage_dir(run, "label")
    if not folder.is_dir():
        return None
    units_per_label: dict[int, int] = {}
    labels_path = folder / "labels.csv"
    if labels_path.is_file():
        labels = read_table(labels_path)
        if "label" not in labels.columns:
            raise InputError(labels_path, "no 'label' column")
        units_per_label = {int(k): int(v) for k, v in labels.groupby("label").size().items()}
    return LabelStage(
        folder,
        LabelResult.read_optional(folder),
        labels_path.is_file(),
        (folder / "sub_tracks.csv").is_file(),
        units_per_label,
    )


def _records(table: pd.DataFrame) -> list[Row]:
    return [
        {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
        for row in table.to_dict(orient="records")
    ]


def read_train(run: Path) -> TrainStage | None:
    """RUN/train/: train_report.json (:class:`TrainResult`), epochs.csv (epoch, mAP, rank1, rank5, rank10 in
    %, loss_* means, lr, seconds; epoch 0 = the untrained network) and steps.csv (epoch, step, lr, loss and
    one column per loss term)."""
    folder = stage_dir(run, "train")
    if not folder.is_dir():
        return None
    tables = {}
    for name in ("epochs", "steps"):
        path = folder / f"{name}.csv"
        tables[name] = _records(read_table(path)) if path.is_file() else None
    return TrainStage(folder, TrainResult.read_optional(folder), tables["epochs"], tables["steps"])


def read_evaluate(run: Path) -> EvaluateStage | None:
    """RUN/evaluate/evaluate.json (:class:`EvaluateResult`) and any RUN/evaluate/*/evaluate.json, keyed by
    their folder name."""
    folder = stage_dir(run, "evaluate")
    if not folder.is_dir():
        return None
    results: dict[str, EvaluateResult] = {}
    if (folder / EvaluateResult.FILE).is_file():
        results[MAIN_RESULT] = EvaluateResult.read(folder)
    for path in sorted(folder.glob(f"*/{EvaluateResult.FILE}")):
        results[path.parent.name] = EvaluateResult.read(path.parent)
    return EvaluateStage(folder, results)


def read_export(run: Path) -> ExportStage | None:
    """RUN/export/: export.json (:class:`ExportResult`), the files (name, bytes) and each model card
    ``<model file>.json`` (input_size, mean, std, colour, feature_dim, format, metrics, ...)."""
    folder = stage_dir(run, "export")
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    models = (".onnx", ".pt", ".ts", ".torchscript")
    is_card = [p.suffix == ".json" and p.with_suffix("").suffix in models for p in files]
    cards = {p.name: read_object(p) for p, card in zip(files, is_card, strict=True) if card}
    sizes = [(p.name, p.stat().st_size) for p in files]
    return ExportStage(folder, ExportResult.read_optional(folder), sizes, cards)
