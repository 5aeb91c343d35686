"""Benchmark: does knowing the least transit time between cameras help ``rfv associate``?

For each seed, the demo's camera network (``rfv synth``: 3 cameras x 120 s, 60 people, density 6) is
rendered, tracked per camera (``rfv track -c synth``: background subtraction + colour histograms, crops
saved), and its tracklets are linked across cameras with colour histograms and, given ``--osnet``, with
OSNet-x0.25 as downloaded, each three ways:

* ``none``: ``rfv associate``'s defaults (no transit constraint);
* ``learnt``: ``learn_transit=true`` (least times learnt from confident links, halved);
* ``topology``: ``topology=FILE``, the world's own walkways (``world.json``'s topology) with the least
  time a person can take on each (0.85 x its transit time: the world's quickest walker), as an operator
  who paced the walkways would write it.

Every output is scored by ``rfv mot-eval cross_camera=global`` against the world's gt (as
``benchmarks/bench_association_quality.py`` does): multi-camera IDF1, cross-camera rFM / rSW and the share
of journeys whose camera sequence is right; mean ± sd over the seeds. Deterministic on one machine.

    python benchmarks/bench_associate_transit.py [--osnet ../shared/data/models/osnet_x0_25_msmt17.onnx]
        [--seeds 0 1 2] [--out runs/bench-transit]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from bench_association_quality import scores  # noqa: E402  (benchmarks/ is on the path as a script)

from reid_from_video.associate.config import AssociateConfig
from reid_from_video.associate.run import run_associate
from reid_from_video.core.config import load_config
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.pipeline import synthesize
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

WORLD = [
    "cameras=3",
    "identities=60",
    "seconds=120",
    "density=6",
    "contact_sheet=false",
    "mars.enabled=false",
]
QUICKEST = 0.85  # the synthetic world's transit jitter runs from 0.85 to 1.2 times an edge's transit time


def tracked_world(seed: int, out: Path) -> tuple[Path, Path]:
    """(world folder, tracklet store) for ``seed``, each made once."""
    world, store = out / f"seed{seed}" / "world", out / f"seed{seed}" / "track"
    if not (world / "world.json").is_file():
        synthesize(load_config(SynthConfig, None, [*WORLD, f"seed={seed}"]), world, progress=False)
    if not (store / "index.csv").is_file():
        config = load_config(TrackConfig, "synth", ["progress=false", "save_crops=true"], stage="track")
        run_track(world / "videos", store, config)
    return world, store


def topology_file(world: Path) -> Path:
    """The world's walkways as ``rfv associate``'s topology CSV (same-camera returns left out)."""
    plan = json.loads((world / "world.json").read_text())
    lines = ["camera_a,camera_b,least_seconds"]
    for edge in plan["topology"]:
        if edge["a"] != edge["b"]:
            lines.append(f"cam{edge['a']},cam{edge['b']},{QUICKEST * edge['transit_s']:.2f}")
    path = world.parent / "topology.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osnet", type=Path, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("runs/bench-transit"))
    args = parser.parse_args()
    models = {"histograms": "histogram", **({"OSNet-x0.25": str(args.osnet)} if args.osnet else {})}
    rows: dict[str, list[dict[str, float]]] = {}
    for seed in args.seeds:
        world, store = tracked_world(seed, args.out)
        ways = {
            "none": [],
            "learnt": ["learn_transit=true"],
            "topology": [f"topology={topology_file(world)}"],
        }
        for model_name, model in models.items():
            for way, overrides in ways.items():
                target = args.out / f"seed{seed}" / f"{model_name}-{way}"
                run_associate(store, target, load_config(AssociateConfig, None, overrides), model)
                row = scores(world / "gt", target / "mot", "global")
                rows.setdefault(f"{model_name}, {way}", []).append(row)
                print(f"seed {seed} {model_name:12s} {way:9s} IDF1 {row['IDF1']:5.1f}  rFM {row['rFM']:.2f}  "
                      f"rSW {row['rSW']:.2f}  journeys {row['journeys %']:5.1f}%", flush=True)  # fmt: skip
    print(f"\nmean ± sd over seeds {args.seeds}:")
    print(f"{'':26s} {'IDF1':>14s} {'rFM':>12s} {'rSW':>12s} {'journeys %':>14s}")
    for name, values in rows.items():
        cells = []
        for column in ("IDF1", "rFM", "rSW", "journeys %"):
            series = [v[column] for v in values]
            spread = statistics.stdev(series) if len(series) > 1 else 0.0
            cells.append(f"{statistics.mean(series):6.2f} ± {spread:5.2f}")
        print(f"{name:26s} " + " ".join(f"{c:>14s}" for c in cells))


if __name__ == "__main__":
    main()
