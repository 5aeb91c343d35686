"""What every section of the report works from: the run folder, what its stages wrote (read once by
:mod:`reid_from_video.report.sections`), where the page goes (for relative links) and the config."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from reid_from_video.io.results import JsonObject
from reid_from_video.report import sections
from reid_from_video.report.config import ReportConfig
from reid_from_video.report.html import Raw, code, note, tag

T = TypeVar("T")


@dataclass
class Context:
    run: Path
    out_dir: Path
    config: ReportConfig
    data: dict[str, object] = field(default_factory=dict)  # stage name -> its reader's result (None: absent)

    def _stage(self, name: str, kind: type[T]) -> T | None:
        value = self.data.get(name)
        return value if isinstance(value, kind) else None

    @property
    def record(self) -> JsonObject | None:
        """run.json (see :func:`reid_from_video.report.sections.read_run`)."""
        value = self.data.get("run")
        return value if isinstance(value, dict) else None

    @property
    def track(self) -> sections.TrackStage | None:
        return self._stage("track", sections.TrackStage)

    @property
    def mot_eval(self) -> sections.MotEvalStage | None:
        return self._stage("mot-eval", sections.MotEvalStage)

    @property
    def label(self) -> sections.LabelStage | None:
        return self._stage("label", sections.LabelStage)

    @property
    def train(self) -> sections.TrainStage | None:
        return self._stage("train", sections.TrainStage)

    @property
    def evaluate(self) -> sections.EvaluateStage | None:
        return self._stage("evaluate", sections.EvaluateStage)

    @property
    def export(self) -> sections.ExportStage | None:
        return self._stage("export", sections.ExportStage)

    @property
    def associate(self) -> sections.AssociateStage | None:
        return self._stage("associate", sections.AssociateStage)

    def where(self, path: Path, text: str | None = None) -> Raw:
        """A link to a file or folder of the run, relative to the page, showing its path inside the run."""
        suffix = "/" if path.is_dir() else ""
        try:
            shown = text or path.relative_to(self.run).as_posix() + suffix
        except ValueError:
            shown = text or str(path)
        try:
            href = Path(os.path.relpath(path, self.out_dir)).as_posix() + suffix
        except ValueError:  # another drive (Windows)
            href = path.resolve().as_uri()
        return tag("a", code(shown), href=href)

    def absent(self, stage: str, what: str) -> Raw:
        return note(f"{stage}/ is absent from {self.run}: {what}")
