"""``rfv demo``: the whole job on a built-in synthetic camera network, on a CPU, with no download.

Two worlds from the synthetic renderer, with the same cameras (``seed``) and different people
(``people_seed``): the *camera network* (videos + MOT ground truth) that the pipeline learns from, and the
same network watching *other people* (its MARS-layout export), on which the model is scored before and after
training: cross-camera re-ID of people never seen in training, in the cameras the model was made for.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from reid_from_video.core.atomic import write_json
from reid_from_video.core.config import config_to_dict
from reid_from_video.core.lock import output_lock
from reid_from_video.pipeline.config import DemoConfig
from reid_from_video.pipeline.run import run_pipeline
from reid_from_video.synth.config import SynthConfig

WORLD_DONE = "world.json"  # written last by rfv synth: a complete world
DEMO_CONFIG = "demo_world.json"  # beside world.json: the world config it was made with


def run_demo(out: str | Path, config: DemoConfig) -> dict[str, Any]:
    """Render both worlds (skipped when already there), run the pipeline; the run record."""
    out = Path(out)
    with output_lock(out):
        world = _world(out / "world", config.world)
        heldout = _world(out / "heldout", config.heldout)
        pipeline = copy.deepcopy(config.pipeline)
        pipeline.gt = str(world / "gt")
        pipeline.eval_data = str(heldout / "mars")
        return run_pipeline(world / "videos", out / "run", pipeline)


def _world(folder: Path, config: SynthConfig) -> Path:
    """``folder`` holding the world of ``config``: rendered unless a complete one of that config is there."""
    from reid_from_video.synth.pipeline import synthesize

    wanted = config_to_dict(config)
    made = folder / DEMO_CONFIG
    if (folder / WORLD_DONE).is_file() and made.is_file() and json.loads(made.read_text()) == wanted:
        print(f"world {folder} already rendered: reused", flush=True)
        return folder
    print(f"\nrendering the synthetic world {folder}", flush=True)
    synthesize(config, folder)
    write_json(made, wanted)
    return folder
