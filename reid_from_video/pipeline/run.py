"""``rfv run``: every stage in order, each in ``RUN/<stage>/``; a stage whose key (config, inputs) is
unchanged and that finished is skipped; one that was interrupted runs again in place, where the stage's
own resume takes over (tracking skips finished cameras, training restarts from its last checkpoint)."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from reid_from_video import __version__
from reid_from_video.core.atomic import write_json
from reid_from_video.core.config import config_to_dict, save_config
from reid_from_video.core.errors import InputError
from reid_from_video.core.fingerprint import content_hash, tree_fingerprint, work_key
from reid_from_video.core.inputs import missing_file, require_inputs
from reid_from_video.core.layout import RUN_FILE, STAGE_FILE, read_stage_file
from reid_from_video.core.lock import output_lock
from reid_from_video.core.signals import terminate_as_interrupt
from reid_from_video.io.mot import find_sequences
from reid_from_video.labels.config import HISTOGRAM, NETWORK
from reid_from_video.pipeline.config import PipelineConfig
from reid_from_video.pipeline.stages import STAGES, Inputs, Stage

log = logging.getLogger(__name__)


def run_pipeline(cameras: str | Path, out: str | Path, config: PipelineConfig) -> dict[str, Any]:
    """Run (or resume) the pipeline; the run record (also written to RUN/run.json). The run folder is locked
    while it runs, and each stage locks its own folder inside it (core/lock.py)."""
    inputs = _inputs(Path(cameras), Path(out), config)
    with output_lock(inputs.run):
        return _run_stages(inputs, config)


def _run_stages(inputs: Inputs, config: PipelineConfig) -> dict[str, Any]:
    save_config(config, inputs.run)
    active = [s for s in STAGES if s.enabled(inputs)]
    record: dict[str, Any] = {
        "camera_folder": str(inputs.cameras),
        "gt": str(inputs.gt) if inputs.gt else None,
        "eval_data": str(inputs.eval_data) if inputs.eval_data else None,
        "config": str(inputs.run / "config.yaml"),
        "stages": [{"name": s.name, "status": "not run", "seconds": 0.0} for s in STAGES],
    }
    rows = {row["name"]: row for row in record["stages"]}
    results: dict[str, str] = {}  # stage -> hash of its key and its main files' content, once it is done
    for number, stage in enumerate(active, 1):
        key = _key(stage, inputs, results)
        row = rows[stage.name]
        print(f"\n[{number}/{len(active)}] {stage.name}", flush=True)
        try:
            with terminate_as_interrupt():
                row.update(_run_stage(stage, inputs, key))
        except BaseException as error:
            row["status"] = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            write_json(inputs.run / RUN_FILE, record)
            raise
        write_json(inputs.run / RUN_FILE, record)
        outputs = content_hash(inputs.folder(stage.name) / name for name in stage.outputs)
        results[stage.name] = work_key({"key": key, "outputs": outputs})
    return record


def _inputs(cameras: Path, run: Path, config: PipelineConfig) -> Inputs:
    """The run's inputs, once every file and model name that a stage will read is there: all that is missing
    is one error, before any stage runs, naming each by its key in rfv run (``track.detector.weights``)."""
    gt = Path(config.gt) if config.gt else (cameras if _has_gt(cameras) else None)
    eval_data = Path(config.eval_data) if config.eval_data else None
    inputs = Inputs(cameras.resolve(), run, gt, eval_data, config)
    missing = missing_file("cameras", cameras, "Give a camera folder: videos, image folders or MOT sequences")
    if config.gt:
        missing += missing_file("gt", config.gt, "Give MOTChallenge ground truth (a sequence per camera)")
    if config.eval_data:
        missing += missing_file("eval_data", config.eval_data, "Give a MARS root or a store with gt ids")
    if config.label.method == "tmc" and config.label_features() not in (HISTOGRAM, NETWORK):
        missing += missing_file(  # the network (train.model.*) is checked with the train stage
            "label_model",
            config.label_model,
            "Give a re-ID model file (ONNX, TorchScript, model.pt), network, histogram or auto",
        )
    for stage in STAGES:
        if stage.enabled(inputs):
            missing += stage.check(getattr(config, stage.section), f"{stage.section}.")
    require_inputs(missing)
    return inputs


def _has_gt(cameras: Path) -> bool:
    """A MOT tree (or sequence) whose sequences carry gt/gt.txt: it is its own ground truth."""
    try:
        sequences = find_sequences(cameras)
    except InputError:
        return False
    return all((folder / "gt" / "gt.txt").is_file() for folder in sequences.values())


def _key(stage: Stage, inputs: Inputs, results: dict[str, str]) -> str:
    """Hash of what the stage's result depends on: its config and arguments, the results of the stages it
    reads (their keys and main files' content) and the files it reads from outside the run. Paths are not
    part of it: a moved run folder or camera folder with the same content is still done."""
    external = {str(p): tree_fingerprint(p) for p in stage.external(inputs)}
    paths = {name: _portable_path(value, inputs.run, external) for name, value in stage.paths(inputs).items()}
    return work_key(
        {
            "stage": stage.name,
            "version": __version__,
            "config": _portable(config_to_dict(stage.config(inputs)), external),
            "inputs": paths,
            "upstream": {name: results[name] for name in stage.upstream},
            "external": sorted(external.values()),
        }
    )


def _portable_path(value: Path | str | None, run: Path, external: dict[str, str]) -> str | None:
    """An input as the key sees it: an external one by its fingerprint, one inside the run relative to it
    (``RUN/...``), anything else (e.g. the model name ``histogram``) as it is."""
    if value is None:
        return None
    if str(value) in external:
        return external[str(value)]
    path = Path(value)
    return f"RUN/{path.relative_to(run).as_posix()}" if path.is_relative_to(run) else str(value)


def _portable(config: Any, external: dict[str, str]) -> Any:
    """``config`` with the paths of external inputs (e.g. train.eval.data) replaced by their fingerprints."""
    if isinstance(config, dict):
        return {k: _portable(v, external) for k, v in config.items()}
    if isinstance(config, list):
        return [_portable(v, external) for v in config]
    return external.get(config, config) if isinstance(config, str) else config


def _run_stage(stage: Stage, inputs: Inputs, key: str) -> dict[str, Any]:
    folder = inputs.folder(stage.name)
    previous = read_stage_file(inputs.run, stage.name) or {}
    if previous.get("key") == key and previous.get("status") == "done":
        print(f"unchanged since the last run: skipped ({folder})", flush=True)
        return {"status": "skipped", "seconds": previous.get("seconds", 0.0)}
    if previous and previous.get("key") != key and folder.exists():
        log.info("%s: config or inputs changed; starting the stage afresh", stage.name)
        shutil.rmtree(folder)
    elif previous.get("status") == "running":
        print("resuming an interrupted run of this stage", flush=True)
    shown = {name: value for name, value in stage.paths(inputs).items() if value is not None}
    print(f"rfv {stage.name} " + " ".join(f"{k}={v}" for k, v in shown.items()), flush=True)
    seconds = float(previous.get("seconds", 0.0)) if previous.get("key") == key else 0.0

    def mark(status: str) -> None:
        write_json(
            folder / STAGE_FILE, {"stage": stage.name, "key": key, "status": status, "seconds": seconds}
        )

    mark("running")
    start = time.perf_counter()
    try:
        result = stage.call(stage.paths(inputs), folder, stage.config(inputs))
    finally:
        seconds += time.perf_counter() - start  # an interrupted stage's time counts towards its total
        mark("running")
    mark("done")
    print(result.summary(), flush=True)
    return {"status": "done", "seconds": seconds}
