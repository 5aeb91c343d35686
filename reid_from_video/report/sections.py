"""Readers of a run folder, one per stage: each returns plain data (dicts, lists, numbers, strings) or None
when the stage's folder is absent, and raises :class:`~reid_from_video.core.errors.InputError` naming the file
when a file is there but unreadable.

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
from pathlib import Path
from typing import Any

import pandas as pd

from reid_from_video.core.errors import InputError
from reid_from_video.core.layout import RUN_FILE, stage_dir
from reid_from_video.report.html import number

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


def _mapping(path: Path) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object, found {type(data).__name__}")
    return data


def _optional(path: Path) -> dict[str, Any] | None:
    return _mapping(path) if path.is_file() else None


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


def read_track(run: Path) -> dict[str, Any] | None:
    """RUN/track/summary.json: per camera frames, detections, boxes, tracks, crops, seconds and the seconds
    of each tracking step; with which of index.csv and mot/ exist."""
    folder = stage_dir(run, "track")
    if not folder.is_dir():
        return None
    summary = _optional(folder / "summary.json")
    mot = folder / "mot"
    return {
        "folder": folder,
        "summary": summary,
        "index": (folder / "index.csv").is_file(),
        "mot_files": sorted(p.name for p in mot.glob("*.txt")) if mot.is_dir() else [],
    }


def read_mot_eval(run: Path) -> dict[str, Any] | None:
    """RUN/mot-eval/summary.json: {"sequences": {name: {clear, hota, noise, input}}, "COMBINED": {...},
    "warnings": [...], "warning_counts": {...}}."""
    folder = stage_dir(run, "mot-eval")
    if not folder.is_dir():
        return None
    path = folder / "summary.json"
    if not path.is_file():
        raise InputError(path, "not found: mot-eval did not finish")
    summary = _mapping(path)
    if not isinstance(summary.get("sequences"), dict):
        raise InputError(path, "no 'sequences' object: not an rfv mot-eval summary")
    return {"folder": folder, "summary": summary}


def read_label(run: Path) -> dict[str, Any] | None:
    """RUN/label/: label_report.json (method, labels, tracklets, index_rows, association or duplication,
    quality) and labels.csv (camera, track[, sub_track], label: the tracklets per label)."""
    folder = stage_dir(run, "label")
    if not folder.is_dir():
        return None
    report = _optional(folder / "label_report.json")
    units_per_label: dict[int, int] = {}
    labels_path = folder / "labels.csv"
    if labels_path.is_file():
        labels = read_table(labels_path)
        if "label" not in labels.columns:
            raise InputError(labels_path, "no 'label' column")
        units_per_label = {int(k): int(v) for k, v in labels.groupby("label").size().items()}
    return {
        "folder": folder,
        "report": report,
        "labels_file": labels_path.is_file(),
        "sub_tracks_file": (folder / "sub_tracks.csv").is_file(),
        "units_per_label": units_per_label,
    }


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
        for row in table.to_dict(orient="records")
    ]


def read_train(run: Path) -> dict[str, Any] | None:
    """RUN/train/: train_report.json (method, data, epochs, seconds, images_per_s, final_loss, before /
    after {epoch, mAP, rank1} in %), epochs.csv (epoch, mAP, rank1, rank5, rank10 in %, loss_* means, lr,
    seconds; epoch 0 = the untrained network) and steps.csv (epoch, step, lr, loss and one column per loss
    term). Rows as dicts without the empty cells."""
    folder = stage_dir(run, "train")
    if not folder.is_dir():
        return None
    out: dict[str, Any] = {"folder": folder, "report": _optional(folder / "train_report.json")}
    for name in ("epochs", "steps"):
        path = folder / f"{name}.csv"
        out[name] = _records(read_table(path)) if path.is_file() else None
    return out


def read_evaluate(run: Path) -> dict[str, Any] | None:
    """RUN/evaluate/evaluate.json (source, queries, gallery, mAP and rank* as fractions, cmc: the CMC
    curve as fractions from rank 1) and any RUN/evaluate/*/evaluate.json, keyed by their folder name."""
    folder = stage_dir(run, "evaluate")
    if not folder.is_dir():
        return None
    results: dict[str, dict[str, Any]] = {}
    main = folder / "evaluate.json"
    if main.is_file():
        results[MAIN_RESULT] = _mapping(main)
    for path in sorted(folder.glob("*/evaluate.json")):
        results[path.parent.name] = _mapping(path)
    for name, result in results.items():
        if not isinstance(result.get("cmc", []), list) or number(result.get("mAP")) is None:
            raise InputError(
                folder / ("" if name == MAIN_RESULT else name) / "evaluate.json",
                "no mAP or no cmc list: not an rfv evaluate result",
            )
    return {"folder": folder, "results": results}


def read_export(run: Path) -> dict[str, Any] | None:
    """RUN/export/: export.json ({"checkpoint", "parity_crops", "formats": {format: {"file", "card", "bytes",
    "export_seconds", "parity": {"min_cosine", "max_abs_diff", ...}}}}), the files (name, bytes) and each
    model card ``<model file>.json`` (input_size, mean, std, colour, feature_dim, format, metrics, ...)."""
    folder = stage_dir(run, "export")
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    models = (".onnx", ".pt", ".ts", ".torchscript")
    cards = {p.name: _mapping(p) for p in files if p.suffix == ".json" and p.with_suffix("").suffix in models}
    summary = _optional(folder / "export.json")
    if summary is not None and not isinstance(summary.get("formats", {}), dict):
        raise InputError(folder / "export.json", "'formats' must be an object")
    files_and_sizes = [(p.name, p.stat().st_size) for p in files]
    return {"folder": folder, "summary": summary, "files": files_and_sizes, "cards": cards}
