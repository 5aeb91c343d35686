"""Shared fixtures. Tests that need the research data find it through RFV_DATA (default ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# The fault battery (issue 19): every bad-input or fault case is a test marked ``@pytest.mark.fault(KIND)``,
# KIND saying what the case must show; ``python -m pytest -m fault`` runs them and prints the tally.
FAULT_KINDS = {
    "clear_error": "one clear error naming the file or key, a non-zero exit, no traceback",
    "handled": "the input is handled correctly (a right result, a warning where due)",
    "no_silent_wrong": "a result that could be silently wrong is right, or refused",
    "no_data_loss": "nothing written before is lost or left half-written",
    "no_code_execution": "an untrusted file runs no code",
}


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


def clear_error(code: int, err: str, *names: str) -> None:
    """What a ``clear_error`` fault case asserts of ``rfv``'s exit code and stderr: a non-zero exit, no
    traceback, one ``rfv ...: error:`` line that names each of ``names`` (a file, a key)."""
    assert code != 0, err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("rfv") and ": error:" in line]
    assert len(errors) == 1, err
    for name in names:
        assert str(name) in err, (name, err)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("fault")
        if marker is not None and (not marker.args or marker.args[0] not in FAULT_KINDS):
            raise pytest.UsageError(f"{item.nodeid}: fault kind must be one of {', '.join(FAULT_KINDS)}")


_fault_outcomes: dict[str, dict[str, str]] = {}  # kind -> test id -> passed / failed / skipped


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = getattr(report, "fault_kind", None)
    if kind is None:
        return
    seen = _fault_outcomes.setdefault(kind, {})
    if report.failed or report.skipped:  # a failed setup, call or teardown fails the case
        seen[report.nodeid] = "failed" if report.failed else "skipped"
    elif report.when == "call":
        seen.setdefault(report.nodeid, "passed")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    marker = item.get_closest_marker("fault")
    if marker is not None:
        outcome.get_result().fault_kind = marker.args[0]


def pytest_terminal_summary(terminalreporter) -> None:
    if not _fault_outcomes:
        return
    cases = sum(len(v) for v in _fault_outcomes.values())
    write = terminalreporter.write_line
    write(f"fault battery: {cases} cases")
    for kind, meaning in FAULT_KINDS.items():
        outcomes = list(_fault_outcomes.get(kind, {}).values())
        if outcomes:
            shown = ", ".join(
                f"{outcomes.count(o)} {o}" for o in ("passed", "failed", "skipped") if o in outcomes
            )
            write(f"  {kind:18s} {len(outcomes):3d} ({shown}): {meaning}")
