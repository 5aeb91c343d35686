"""The run-folder layout that ``rfv run`` writes and the report reads (neither imports the other for it).

``RUN/<stage>/`` per stage in :data:`STAGE_NAMES` order, each exactly what that stage's own command writes
with ``--out RUN/<stage>``, plus ``rfv run``'s record of the stage, ``RUN/<stage>/stage.json``
(``{"stage", "key", "status", "seconds"}``); and ``RUN/run.json``: every stage's status and time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
STAGE_FILE = "stage.json"
STAGE_NAMES = ("track", "mot-eval", "label", "train", "evaluate", "export", "associate")


def stage_dir(run: Path, stage: str) -> Path:
    return run / stage


def read_stage_file(run: Path, stage: str) -> dict[str, Any] | None:
    """RUN/<stage>/stage.json; None when absent or unreadable (a record to skip or fill in from, never a
    reason to stop)."""
    path = stage_dir(run, stage) / STAGE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
