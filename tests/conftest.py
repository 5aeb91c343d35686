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


def _world(root: Path, *overrides: str) -> Path:
    from reid_from_video.core.config import load_config
    from reid_from_video.synth.config import SynthConfig
    from reid_from_video.synth.pipeline import synthesize

    synthesize(load_config(SynthConfig, None, [*overrides, "contact_sheet=false"]), root, progress=False)
    return root


@pytest.fixture(scope="session")
def mars_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 3-camera synthetic world (16 people, 30 s at 5 fps, 320x180, seed 3) with its MARS-layout
    export (train and test identities disjoint), rendered once for the tests that only read it."""
    root = tmp_path_factory.mktemp("mars_world")
    return _world(root, "cameras=3", "identities=16", "seconds=30", "fps=5", "size=320x180", "seed=3")


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-camera, 8 s synthetic world (8 people, 320x180, seed 3, no MARS export), for tracking tests
    that only read it."""
    root = tmp_path_factory.mktemp("small_world")
    overrides = ["cameras=2", "seconds=8", "size=320x180", "identities=8", "seed=3", "mars.enabled=false"]
    return _world(root, *overrides, "workers=1")
