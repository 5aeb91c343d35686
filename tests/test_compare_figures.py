"""tools/compare_figures.py: the figures of two output folders compared exactly, times and paths left out."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "compare_figures.py"


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("compare_figures", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(folder: Path, summary: dict, rows: str) -> None:
    (folder / "stage").mkdir(parents=True)
    (folder / "stage" / "summary.json").write_text(json.dumps(summary))
    (folder / "stage" / "epochs.csv").write_text(rows)


def test_same_figures_with_other_times_and_paths_compare_equal(tool, tmp_path: Path, capsys) -> None:
    _write(
        tmp_path / "a",
        {"mAP": 16.4, "seconds": 7.1, "out": "/x", "ids": [1, 2]},
        "epoch,loss,seconds\n1,0.5,3\n",
    )
    _write(
        tmp_path / "b",
        {"mAP": 16.4, "seconds": 9.9, "out": "/y", "ids": [1, 2]},
        "epoch,loss,seconds\n1,0.5,4\n",
    )
    assert tool.compare(tmp_path / "a", tmp_path / "b") == 0
    assert "5 figures in 2 files compared: 0 differ" in capsys.readouterr().out  # mAP, ids x 2, epoch, loss


def test_a_changed_figure_a_missing_key_and_a_missing_file_are_counted(tool, tmp_path: Path, capsys) -> None:
    _write(tmp_path / "a", {"mAP": 16.4, "rank1": 11.1}, "epoch,loss\n1,0.5\n")
    (tmp_path / "a" / "extra.json").write_text("{}")
    _write(tmp_path / "b", {"mAP": 16.400001}, "epoch,loss\n1,0.5\n")
    assert tool.compare(tmp_path / "a", tmp_path / "b") == 3
    out = capsys.readouterr().out
    assert "mAP: 16.4 -> 16.400001" in out and "rank1: 11.1 -> None" in out and "extra.json: missing" in out


def test_two_files_of_other_names_compare(tool, tmp_path: Path, capsys) -> None:
    (tmp_path / "old.json").write_text(json.dumps({"purity": 0.8}))
    (tmp_path / "new.json").write_text(json.dumps({"purity": 0.7}))
    assert tool.compare(tmp_path / "old.json", tmp_path / "new.json") == 1
    assert "purity: 0.8 -> 0.7" in capsys.readouterr().out
