"""What an installed package needs: every package folder listed, the presets shipped as package data, and
a command line that starts without the heavy libraries (they load where a stage runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reid_from_video.core.config import PRESETS_DIR

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "pandas", "cv2", "scipy", "sklearn", "matplotlib", "ultralytics", "onnxruntime")


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pyproject_lists_every_package():
    """The list is explicit (trackers/ installs as rfv_trackers): a new package folder must join it."""
    setuptools = _pyproject()["tool"]["setuptools"]
    inits = (ROOT / "reid_from_video").rglob("__init__.py")
    found = {".".join(init.parent.relative_to(ROOT).parts) for init in inits}
    assert set(setuptools["packages"]) == found | {"rfv_trackers"}
    assert setuptools["package-dir"] == {"rfv_trackers": "trackers"}


def test_every_preset_is_package_data():
    patterns = _pyproject()["tool"]["setuptools"]["package-data"]["reid_from_video"]
    package = ROOT / "reid_from_video"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    presets = set(PRESETS_DIR.rglob("*.yaml"))
    assert presets and presets <= shipped


def test_the_command_line_imports_no_heavy_library():
    """Building the whole parser (every command's config, as ``rfv --help`` does) loads none of them."""
    code = (
        "import json, sys\n"
        "import reid_from_video.cli as cli\n"
        "cli.build_parser()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(done.stdout) == []
