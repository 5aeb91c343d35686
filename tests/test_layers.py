"""The package's layers (DESIGN.md "Layers"): every import points down, and packages import one another
without a cycle. Imports are read with ``ast`` from the source (function-level ones included), nothing is
imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "reid_from_video"
TRACKERS = "rfv_trackers"  # the folder trackers/, installed under this name (pyproject package-dir)
FOLDERS = {PACKAGE: ROOT / PACKAGE, TRACKERS: ROOT / "trackers"}

CORE, BLOCKS, STAGES = 0, 1, 2
# Each unit (a subpackage or top-level module of reid_from_video, or rfv_trackers) and its layer, lowest
# first. "reid_from_video" is the package's own __init__ (the version only).
LAYERS = {
    "core": CORE,
    PACKAGE: CORE,
    **dict.fromkeys(
        ["io", "detect", "embed", "models", "losses", "noise", "synth", "kreciprocal", TRACKERS], BLOCKS
    ),
    **dict.fromkeys(["tracking", "labels", "train", "evaluate", "export", "associate", "inspection"], STAGES),
    "report": 3,
    "pipeline": 4,
    "commands": 5,
    "cli": 6,
    "__main__": 7,
}

# Imports that do not point down, each with the reason it stays. Building blocks may build on one another
# (detect on io, embed on detect): the cycle test keeps that acyclic, so they need no entry here.
ALLOWED = {
    # TMC training re-labels its tracklets every few epochs with the labelling stage's association
    # (labels/tmc.py: associate, DROPPED, AssociationConfig in the train config) and scores the labels with
    # labels/quality.py: the same algorithm as `rfv label --method tmc`, not a copy of it.
    ("train", "labels"): "TMC re-labelling inside training",
    # The per-epoch evaluation scores the model with the evaluation stage's evaluate_features and
    # EvaluateConfig, so its figures are exactly those `rfv evaluate` gives (as fast-reid's EvalHook calls
    # its evaluator).
    ("train", "evaluate"): "per-epoch evaluation",
}


def _modules() -> Iterator[tuple[str, Path]]:
    """Every module's dotted name (under its installed name) and file."""
    for name, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((name, *parts)), path


def _unit(module: str) -> str | None:
    """The unit a dotted module belongs to; None outside the project."""
    parts = module.split(".")
    if parts[0] == TRACKERS:
        return TRACKERS
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else PACKAGE


def _is_module(module: str) -> bool:
    folder = FOLDERS[PACKAGE].joinpath(*module.split(".")[1:])
    return folder.is_dir() or folder.with_suffix(".py").is_file()


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """The project modules that ``module`` imports (relative imports resolved), with line numbers."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # `from reid_from_video import kreciprocal` imports that unit
                submodule = f"{target}.{alias.name}"
                yield (submodule if target == PACKAGE and _is_module(submodule) else target), node.lineno


def _edges() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) -> where: every import between two different units."""
    edges: dict[tuple[str, str], list[str]] = {}
    for module, path in _modules():
        source = _unit(module)
        for target_module, line in _imports(module, path):
            target = _unit(target_module)
            if target is not None and target != source:
                where = f"{path.relative_to(ROOT)}:{line} imports {target_module}"
                edges.setdefault((source, target), []).append(where)
    return edges


def test_every_unit_has_a_layer():
    units = {_unit(module) for module, _ in _modules()}
    assert units - set(LAYERS) == set(), "new packages: give them a layer in LAYERS"


def test_imports_point_down():
    wrong = [
        f"{source} (layer {LAYERS[source]}) -> {target} (layer {LAYERS[target]}): {where[0]}"
        for (source, target), where in sorted(_edges().items())
        if (source, target) not in ALLOWED
        and LAYERS[target] >= LAYERS[source]
        and not (LAYERS[source] == LAYERS[target] == BLOCKS)
    ]
    assert not wrong, "imports that do not point down:\n" + "\n".join(wrong)


def test_allowed_exceptions_are_still_needed():
    stale = set(ALLOWED) - set(_edges())
    assert stale == set(), "these imports are gone: remove them from ALLOWED"


def test_no_import_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for source, target in _edges():
        # an allowed import that points up closes a cycle by nature: ALLOWED names it already
        if (source, target) not in ALLOWED or LAYERS[target] <= LAYERS[source]:
            graph.setdefault(source, set()).add(target)
    done: set[str] = set()

    def visit(unit: str, path: list[str]) -> None:
        if unit in path:
            raise AssertionError(f"import cycle: {' -> '.join([*path[path.index(unit) :], unit])}")
        if unit in done:
            return
        for target in sorted(graph.get(unit, ())):
            visit(target, [*path, unit])
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, [])


def test_trackers_import_nothing_of_reid_from_video():
    """rfv_trackers is importable alone (numpy, scipy, lap)."""
    found = [line for (source, _), where in _edges().items() if source == TRACKERS for line in where]
    assert not found, "\n".join(found)
