"""The stages as Python functions: each writes its folder and returns a typed result that round-trips
through JSON; the pipeline calls them without the CLI; the command modules only parse and call."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from reid_from_video.core.config import load_config
from reid_from_video.core.errors import InputError
from reid_from_video.evaluate.config import EvaluateConfig
from reid_from_video.evaluate.evaluation import run_evaluate
from reid_from_video.evaluate.result import EvaluateResult
from reid_from_video.export.config import ExportConfig
from reid_from_video.export.pipeline import run_export
from reid_from_video.export.result import ExportResult
from reid_from_video.io.results import StageResult
from reid_from_video.labels.config import LabelConfig
from reid_from_video.labels.result import LabelResult
from reid_from_video.labels.run import run_label
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import run_mot_eval
from reid_from_video.noise.result import MotEvalResult
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.result import TrackResult
from reid_from_video.tracking.run import run_track
from reid_from_video.train.config import TrainConfig
from reid_from_video.train.result import TrainResult
from reid_from_video.train.run import run_train

PACKAGE = Path(__file__).resolve().parents[1] / "reid_from_video"
HALF_SIZE = ["detector.bg_min_area=40", "detector.bg_join_height=8", "detector.min_height=10"]
CLUSTER = ["tmc.association.cluster.rho=0.05", "tmc.association.cluster.min_samples=2"]
TINY_TRAIN = [
    "model.backbone=tiny", "model.weights=none", "model.input_size=[64, 32]", "data.workers=0", "threads=1",
    "progress=false", "epochs=1", "data.iters=2", "eval.before=false",
]  # fmt: skip


def _round_trips(result: StageResult, folder: Path) -> None:
    """The result equals itself through to_json / from_json, and what the stage wrote is what it returned."""
    kind = type(result)
    assert kind.from_json(json.loads(json.dumps(result.to_json()))) == result
    assert kind.read(folder) == result
    assert isinstance(result.summary(), str) and result.summary()


@pytest.fixture(scope="module")
def stages(mars_world: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, StageResult]:
    """Every stage of the pipeline called from Python, in order, on the tiny MARS world."""
    run = tmp_path_factory.mktemp("stages")
    track = load_config(
        TrackConfig, "synth", ["save_crops=true", "progress=false", *HALF_SIZE], stage="track"
    )
    label = load_config(LabelConfig, "tmc_mars", [*CLUSTER, "tmc.isolation.min_samples=2"], stage="label")
    train = load_config(TrainConfig, "tmc_synth", [*TINY_TRAIN, *CLUSTER], stage="train")
    results: dict[str, StageResult] = {}
    results["track"] = run_track(mars_world / "videos", run / "track", track)
    results["mot-eval"] = run_mot_eval(
        mars_world / "gt", run / "track" / "mot", run / "mot-eval", MotEvalConfig(plots=False)
    )
    results["label"] = run_label(run / "track", run / "label", label, model="histogram", gt=mars_world / "gt")
    trained = run_train(run / "track", run / "train", train, labels=run / "label")
    assert trained is not None
    results["train"] = trained
    results["evaluate"] = run_evaluate(
        mars_world / "mars", run / "evaluate", EvaluateConfig(plots=False), model=run / "train" / "model.pt"
    )
    results["export"] = run_export(
        run / "train" / "model.pt", run / "export", ExportConfig(format="onnx", batch=4)
    )
    return {"run": run, **results}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "stage, kind",
    [
        ("track", TrackResult),
        ("mot-eval", MotEvalResult),
        ("label", LabelResult),
        ("train", TrainResult),
        ("evaluate", EvaluateResult),
        ("export", ExportResult),
    ],
)
def test_every_stage_returns_a_typed_result_that_round_trips(stages, stage, kind):
    result = stages[stage]
    assert isinstance(result, kind)
    _round_trips(result, stages["run"] / stage)
    assert (stages["run"] / stage / "config.yaml").is_file() or stage == "export"


def test_the_results_hold_the_figures_of_the_run(stages):
    track, mot, label = stages["track"], stages["mot-eval"], stages["label"]
    assert track.totals.cameras == 3 and [c.camera for c in track.cameras] == ["cam1", "cam2", "cam3"]
    assert set(mot.sequences) == {"cam1", "cam2", "cam3"} and mot.combined.noise.rfm >= 1.0
    assert label.method == "tmc" and label.association is not None and label.quality.ground_truth
    assert stages["train"].epochs == 1 and stages["evaluate"].model == str(
        stages["run"] / "train" / "model.pt"
    )
    assert stages["evaluate"].rank(1) is not None and list(stages["export"].formats) == ["onnx"]


def test_an_old_file_without_a_key_reads_with_its_default_and_a_wrong_value_is_named(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"input": "cams", "totals": {"frames": 3}}))
    result = TrackResult.read(tmp_path)
    assert result.totals.frames == 3 and result.cameras == () and result.totals.seconds is None
    (tmp_path / "summary.json").write_text(json.dumps({"totals": {"frames": "three"}}))
    with pytest.raises(InputError, match=r"summary.json: .*totals.frames: expected int"):
        TrackResult.read(tmp_path)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_pipeline_does_not_go_through_the_cli():
    for path in sorted((PACKAGE / "pipeline").glob("*.py")):
        for name in _imports(path):
            assert not name.startswith(("reid_from_video.cli", "reid_from_video.commands")), (path.name, name)


# What a command's run function may do: import, call, print, and stop on a missing argument.
ALLOWED = (ast.ImportFrom, ast.Expr, ast.Assign, ast.If, ast.Raise)
STAGE_FUNCTIONS = {"synthesize", "write_report"}  # rfv synth and rfv report: not named run_*
WRITES = {"open", "write_json", "save_config", "mkdir", "write_text", "write_bytes", "atomic_write"}


def _command_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", "") == "command" for d in node.decorator_list
        )
    ]


def _called(node: ast.AST) -> list[str]:
    return [
        getattr(call.func, "id", getattr(call.func, "attr", ""))
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
    ]


def test_every_command_only_parses_and_calls_one_stage_function():
    modules = sorted(p for p in (PACKAGE / "commands").glob("*.py") if p.stem not in ("__init__", "registry"))
    assert len(modules) == 15
    for path in modules:
        tree = ast.parse(path.read_text())
        functions = _command_functions(tree)
        assert len(functions) == 1, path.name
        run = functions[0]
        for statement in run.body:
            assert isinstance(statement, ALLOWED), (path.name, ast.dump(statement))
        loops = (
            ast.For,
            ast.While,
            ast.With,
            ast.Try,
            ast.ListComp,
            ast.DictComp,
            ast.SetComp,
            ast.GeneratorExp,
        )
        assert not [n for n in ast.walk(run) if isinstance(n, loops)], path.name
        called = _called(run)
        assert not WRITES & set(called), (path.name, called)
        stage_calls = [name for name in called if name.startswith("run_") or name in STAGE_FUNCTIONS]
        assert len(stage_calls) == 1, (path.name, stage_calls)
        # The module body: a docstring, imports, argument parsers and the registered function.
        for node in tree.body:
            assert isinstance(node, (ast.Expr, ast.ImportFrom, ast.Import, ast.FunctionDef)), path.name


def test_rfv_runs_train_key_names_the_device_it_trains_on(tmp_path):
    """``device: auto`` is resolved before the train stage's key is taken: a run trained on a CPU (with its
    cpu_schedule) is not taken as done on a machine with a GPU."""
    import torch

    from reid_from_video.pipeline.config import PipelineConfig
    from reid_from_video.pipeline.stages import STAGES, Inputs

    config = load_config(PipelineConfig, "tmc", [], stage="pipeline")
    train = next(stage for stage in STAGES if stage.name == "train")
    section = train.config(Inputs(tmp_path, tmp_path / "run", None, None, config))
    assert config.train.device == "auto"
    assert section.device == ("cuda" if torch.cuda.is_available() else "cpu")
    cpu = load_config(PipelineConfig, "tmc", ["train.device=cpu"], stage="pipeline")
    assert train.config(Inputs(tmp_path, tmp_path / "run", None, None, cpu)).device == "cpu"
