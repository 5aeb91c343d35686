"""``synthesize``: plan a world, render its cameras (in parallel), export MARS crops and a contact sheet.

Output folder::

    world.json                 the plan: cameras, identities and looks, topology, schedule, split, seed
    config.yaml                the resolved config
    videos/<camera>.mp4        one video per camera (+ <camera>.json: fps and the shared clock's start 0)
    gt/<camera>/gt/gt.txt      MOTChallenge gt with global identity ids, and gt/<camera>/seqinfo.ini
    mars/                      gt crops in the MARS layout (bbox_train, bbox_test, info/)
    contact_sheet.jpg          sample frames of every camera with their gt boxes

``world.json`` is written last: its presence marks a complete world (a stale one is removed first).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from reid_from_video.core.atomic import write_json
from reid_from_video.core.config import save_config
from reid_from_video.core.lock import output_lock
from reid_from_video.core.signals import worker_signals
from reid_from_video.io.video import discover_cameras
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.contact_sheet import make_contact_sheet
from reid_from_video.synth.mars_export import MarsExport, write_mars
from reid_from_video.synth.render import render_camera
from reid_from_video.synth.world import World, plan_world


@dataclass
class SynthResult:
    out: Path
    world: World
    gt: dict[str, pd.DataFrame]  # camera name -> gt table
    mars: MarsExport | None
    contact_sheet: Path | None
    seconds: float  # wall time of the whole run

    def summary(self, config: SynthConfig) -> str:
        """The lines ``rfv synth`` prints: what was rendered, how fast, and what was written."""
        rows = sum(len(table) for table in self.gt.values())
        seen = {int(i) for table in self.gt.values() for i in table["id"].unique()}
        frames = config.cameras * config.n_frames
        lines = [
            f"{config.cameras} cameras x {config.n_frames} frames ({config.size}, {config.fps} fps): "
            f"{rows} gt boxes of {len(seen)} identities in {self.seconds:.1f} s "
            f"({frames / self.seconds:.0f} frames/s)"
        ]
        if (m := self.mars) is not None:
            lines.append(
                f"MARS export: {m.train_tracklets} train and {m.test_tracklets} test tracklets, "
                f"{m.queries} queries, {m.images} crops"
            )
        lines.append(f"wrote {self.out} (world.json, videos/, gt/" + (", mars/" if self.mars else "") + ")")
        if self.contact_sheet is not None:
            lines.append(f"contact sheet: {self.contact_sheet}")
        return "\n".join(lines)


_counter = None  # the progress counter shared with worker processes


def _init_worker(counter, parent: int) -> None:
    global _counter
    _counter = counter
    worker_signals(parent)


def _render_in_worker(args: tuple[World, int, Path]) -> tuple[int, pd.DataFrame]:
    world, camera, out = args

    def tick(n: int) -> None:
        with _counter.get_lock():
            _counter.value += n

    return camera, render_camera(world, camera, out, progress=tick)


def _render_all(world: World, out: Path, workers: int, progress: bool) -> dict[int, pd.DataFrame]:
    config = world.config
    total = config.cameras * config.n_frames
    bar = tqdm(total=total, desc="rfv synth", unit="frame", disable=not progress)
    try:
        if workers <= 1:
            return {
                k: render_camera(world, k, out, progress=bar.update) for k in range(1, config.cameras + 1)
            }
        context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        counter = context.Value("q", 0)
        tasks = [(world, k, out) for k in range(1, config.cameras + 1)]
        with context.Pool(workers, initializer=_init_worker, initargs=(counter, os.getpid())) as pool:
            pending = pool.map_async(_render_in_worker, tasks)
            while not pending.ready():
                pending.wait(0.25)
                bar.update(counter.value - bar.n)
            results = dict(pending.get())
        bar.update(total - bar.n)
        return results
    finally:
        bar.close()


def synthesize(config: SynthConfig, out: str | Path, progress: bool = True) -> SynthResult:
    """Generate the world ``config`` describes into ``out`` (see the module docstring for the layout)."""
    start = time.perf_counter()
    out = Path(out)
    with output_lock(out):
        (out / "world.json").unlink(missing_ok=True)
        world = plan_world(config)
        workers = config.workers or min(config.cameras, os.cpu_count() or 1)
        tables = _render_all(world, out, min(workers, config.cameras), progress)
        gts = {world.cameras[k - 1].name: tables[k] for k in sorted(tables)}

        mars = None
        if config.mars.enabled:
            cameras = discover_cameras(out / "videos")
            by_name = {cam.name: cam for cam in cameras}
            ordered = [by_name[cam.name] for cam in world.cameras]  # camera k of the world is MARS camera k
            mars = write_mars(
                ordered, gts, world.train_ids, world.test_ids, config.seed, out / "mars", config.mars
            )
        sheet = make_contact_sheet(out) if config.contact_sheet else None
        save_config(config, out)
        write_json(out / "world.json", world.to_dict())
        return SynthResult(out, world, gts, mars, sheet, time.perf_counter() - start)
