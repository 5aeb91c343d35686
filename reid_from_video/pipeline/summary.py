"""The closing lines of ``rfv run``: the figures of every stage and where its files are, read through the
stages' result classes (each has a one-line ``summary``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reid_from_video.associate.result import AssociateResult
from reid_from_video.core.errors import InputError
from reid_from_video.evaluate.result import EvaluateResult
from reid_from_video.export.result import ExportResult
from reid_from_video.io.results import StageResult
from reid_from_video.labels.result import LabelResult
from reid_from_video.noise.result import MotEvalResult
from reid_from_video.train.result import TrainResult

RESULTS: dict[str, type[StageResult]] = {  # the stages whose figures the summary shows
    "mot-eval": MotEvalResult,
    "label": LabelResult,
    "train": TrainResult,
    "evaluate": EvaluateResult,
    "export": ExportResult,
    "associate": AssociateResult,
}


def format_summary(run: Path, record: dict[str, Any]) -> str:
    lines = [f"run {run}: camera folder {record['camera_folder']}"]
    for row in record["stages"]:
        figures = _figures(run, row["name"]) if row["status"] in ("done", "skipped") else ""
        lines.append(f"  {row['name']:9s} {row['status']:11s} {row['seconds']:7.1f} s  {figures}")
    return "\n".join(lines)


def _figures(run: Path, stage: str) -> str:
    kind = RESULTS.get(stage)
    if kind is None:
        return ""
    try:
        return kind.read(run / stage).summary()
    except InputError:
        return ""  # a stage's own output said what it wrote; the summary only adds figures it can read
