"""Shared fixtures. Tests that need the research data find it through RFV_DATA (default ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    return Path(os.environ.get("RFV_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The research data folder; the test is skipped, with the reason, when it is absent."""
    root = data_root()
    if not root.is_dir():
        pytest.skip(f"research data not found at {root} (set RFV_DATA to its folder)")
    return root


def need(root: Path, relative: str) -> Path:
    """A path inside the research data, skipping the test when that part is missing."""
    path = root / relative
    if not path.exists():
        pytest.skip(f"{path} not found in the research data")
    return path
