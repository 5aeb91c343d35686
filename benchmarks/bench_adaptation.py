"""Benchmark: does adapting a pretrained re-ID network to the cameras beat the network as downloaded?
(issue 18, "Measure": adapted >= pretrained + 10 mAP points on held-out people of the same cameras.)

For every world seed, the demo's camera network (``rfv demo``'s preset: 3 cameras, background subtraction +
DeepSORT on colour histograms) is rendered twice, as ``rfv demo`` does: a world the pipeline learns from
and the same cameras watching other people (``heldout``), meant to be large enough for a stable
evaluation (the issue's floor: 100 queries and 500 gallery tracklets; the script warns below it, and the
default does not reach it: see HELDOUT_IDENTITIES). On that held-out set it scores:

* ``pretrained``: the OSNet-x0.25 file as downloaded (``rfv evaluate HELDOUT/mars --model FILE``);
* ``tmc``: ``rfv run`` with TMC, started from that file (``train.model.init``), first labels from its
  features (``label_model: auto``);
* ``taudl``: ``rfv run`` with TAUDL's SSTT labels, started from the same file;
* ``scratch``: ``rfv run`` as the demo has it (TMC, the tiny CNN from random weights, colour-histogram
  labels).

It prints mAP and rank-1 per seed and method, then the mean ± standard deviation over seeds and each
method's gain over ``pretrained``. Everything lands in ``--out`` (one ``rfv run`` folder per seed and
method), and a finished run is skipped when the script is run again (``rfv run``'s resume).

Scales:

* ``full``: 40 epochs of 40 iterations at 256 x 128 (the demo's iterations, the paper's input size): GPU
  work; on the 2-core CPU box one OSNet training run takes the better part of an hour.
* ``cpu``: the same worlds, held-out set and input size, 5 epochs of 40 iterations (200 optimiser steps,
  12,800 images), 2 torch threads, evaluated once after training: about 1 h 20 min per seed on the shared
  2-core box.
* ``mini``: small worlds and one short epoch at 128 x 64, a check that the script works; its figures mean
  nothing.

The worlds of a seed are rendered once and copied to the other methods' folders (``rfv demo`` reuses a
rendered world of the same config).

    python benchmarks/bench_adaptation.py --osnet ../shared/data/models/osnet_x0_25_msmt17.onnx \\
        [--seeds 0 1 2] [--scale full|cpu|mini] [--out runs/bench-adaptation] [--device auto] \\
        [--heldout-identities 160] [--methods tmc taudl scratch] [--cameras 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from pathlib import Path

from reid_from_video.core.config import load_config
from reid_from_video.evaluate.config import EvaluateConfig
from reid_from_video.pipeline.config import DemoConfig
from reid_from_video.pipeline.demo import WORLD_DONE, run_demo

METHODS = ("pretrained", "tmc", "taudl", "scratch")
MIN_QUERIES, MIN_GALLERY = 100, 500  # the floor for a stable evaluation

# The held-out people: more of them, for longer, than the demo's (54 queries, 238 gallery tracklets).
# Held-out people for --scale full / cpu. On seed 0, 120 gave 81 queries / 465 gallery tracklets and 160
# gave 75 / 458: more people crowd the same 120 s rather than adding queries, so the floor needs a longer
# held-out world (heldout.seconds), not tried; --scale mini keeps the demo's 40 for 20 s.
HELDOUT_IDENTITIES = 160
TAUDL_LABELS = 24  # labels in a TAUDL batch (x 4 images), rounded to a multiple of the cameras
WORLD: dict[str, list[str]] = {"full": [], "cpu": [], "mini": ["world.seconds=20", "world.identities=12"]}
SHORT = ["epochs=1", "data.iters=2", "eval.before=true", "eval.every=1"]  # --scale mini only
# --scale cpu: 200 steps at 256 x 128, one evaluation (the "before" figure is ``pretrained``, scored apart)
CPU = ["epochs=5", "eval.every=5", "eval.before=false", "threads=2"]
SCHEDULE = {"full": ["epochs=40", "eval.every=10"], "cpu": CPU, "mini": SHORT}


def osnet_start(osnet: Path, scale: str) -> list[str]:
    """train.* for fine-tuning the OSNet file: its own input size, a fine-tuning learning rate."""
    size = "[128, 64]" if scale == "mini" else "[256, 128]"
    return [
        "model.backbone=osnet_x0_25",
        f"model.init={osnet}",
        f"model.input_size={size}",
        "optim.lr=3.5e-4",
        *SCHEDULE[scale],
    ]


def method_overrides(method: str, osnet: Path, scale: str, cameras: int) -> list[str]:
    """Demo-config overrides of one pipeline variant (``pipeline.`` prefixed)."""
    train: list[str] = list(SHORT) if scale == "mini" else []
    top: list[str] = []
    if method == "tmc":
        train = osnet_start(osnet, scale)
        top = ["label_model=auto"]
    elif method == "taudl":
        # TAUDL splits a batch's labels evenly over the cameras: about 24 (8 each for the demo's 3 cameras)
        per_camera = max(1, round(TAUDL_LABELS / cameras))
        train = ["method=taudl", f"data.p={per_camera * cameras}", *osnet_start(osnet, scale)]
        top = ["label.method=sstt"]
    return [f"pipeline.{o}" for o in top] + [f"pipeline.train.{o}" for o in train]


def heldout_overrides(scale: str, identities: int) -> list[str]:
    if scale == "mini":
        return ["heldout.seconds=20"]
    return [f"heldout.identities={identities}", "heldout.seconds=120"]


def demo_config(seed: int, method: str, args: argparse.Namespace) -> DemoConfig:
    osnet, scale = args.osnet, args.scale
    overrides = [
        f"world.seed={seed}",
        f"heldout.seed={seed}",
        f"world.people_seed={100 + seed}",
        f"heldout.people_seed={200 + seed}",
        *WORLD[scale],
        *heldout_overrides(scale, args.heldout_identities),
        f"world.cameras={args.cameras}",
        f"heldout.cameras={args.cameras}",
        f"pipeline.train.device={args.device}",
        *method_overrides(method, osnet, scale, args.cameras),
    ]
    return load_config(DemoConfig, "demo", overrides, stage="demo")


def score(run: Path) -> dict[str, float]:
    data = json.loads((run / "run" / "evaluate" / "evaluate.json").read_text())
    return {k: 100 * data[k] for k in ("mAP", "rank1")} | {k: data[k] for k in ("queries", "gallery")}


def pretrained_score(heldout: Path, osnet: Path, out: Path, device: str) -> dict[str, float]:
    """The OSNet file on the held-out set; a finished evaluation of it in ``out`` is read back (delete the
    folder to score again)."""
    from reid_from_video.evaluate.evaluation import run_evaluate
    from reid_from_video.evaluate.result import EvaluateResult

    done = out / EvaluateResult.FILE
    if done.is_file() and json.loads(done.read_text()).get("model") == str(osnet):
        data = json.loads(done.read_text())
        return {"mAP": 100 * data["mAP"], "rank1": 100 * data["rank1"]}
    result = run_evaluate(heldout / "mars", out, EvaluateConfig(plots=False, device=device), model=osnet)
    return {"mAP": 100 * result.mAP, "rank1": 100 * result.rank(1)}


def one_seed(seed: int, args: argparse.Namespace) -> dict[str, dict[str, float]]:

    scores: dict[str, dict[str, float]] = {}
    for method in [m for m in METHODS[1:] if m in args.methods]:
        folder = args.out / f"seed{seed}" / method
        share_worlds(args.out / f"seed{seed}" / METHODS[1], folder)
        run_demo(folder, demo_config(seed, method, args))
        scores[method] = score(folder)
    first = args.out / f"seed{seed}" / METHODS[1]
    queries, gallery = scores[METHODS[1]]["queries"], scores[METHODS[1]]["gallery"]
    if args.scale != "mini" and (queries < MIN_QUERIES or gallery < MIN_GALLERY):
        print(
            f"WARNING seed {seed}: {queries} queries, {gallery} gallery tracklets: below the floor of a "
            f"stable evaluation ({MIN_QUERIES} / {MIN_GALLERY}); raise --heldout-identities",
            flush=True,
        )
    scores["pretrained"] = pretrained_score(first / "heldout", args.osnet, first / "pretrained", args.device)
    return scores


def share_worlds(first: Path, folder: Path) -> None:
    """Copy the first method's rendered worlds into ``folder`` (rendering is deterministic per config)."""
    for world in ("world", "heldout"):
        if (first / world / WORLD_DONE).is_file() and not (folder / world).exists():
            shutil.copytree(first / world, folder / world)


def mean_spread(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):5.1f} ± {spread:4.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--osnet", type=Path, required=True, help="the OSNet-x0.25 file (.onnx, .pth)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--scale", choices=("full", "cpu", "mini"), default="full")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-adaptation"))
    parser.add_argument("--device", default="auto", help="auto: a GPU when present")
    parser.add_argument(
        "--heldout-identities", type=int, default=HELDOUT_IDENTITIES, help="held-out people (full, cpu)"
    )
    parser.add_argument("--cameras", type=int, default=3, help="cameras of the network (the demo's: 3)")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS[1:],
        default=list(METHODS[1:]),
        help="the trained variants to run (tmc first: its worlds are shared); pretrained is always scored",
    )
    args = parser.parse_args()
    if "tmc" not in args.methods:
        parser.error("--methods needs tmc: the other variants reuse its rendered worlds")
    table = {seed: one_seed(seed, args) for seed in args.seeds}
    methods = [m for m in METHODS if m == "pretrained" or m in args.methods]
    print(f"\nheld-out people of the same cameras, scale {args.scale}, seeds {args.seeds}")
    for seed, scores in table.items():
        cells = "  ".join(f"{m} {scores[m]['mAP']:5.1f} / {scores[m]['rank1']:5.1f}" for m in methods)
        size = f"{scores['tmc']['queries']:.0f} queries, {scores['tmc']['gallery']:.0f} gallery"
        print(f"seed {seed} ({size}; mAP / rank-1 %): {cells}")
    for method in methods:
        maps = [table[s][method]["mAP"] for s in args.seeds]
        gains = [table[s][method]["mAP"] - table[s]["pretrained"]["mAP"] for s in args.seeds]
        ranks = [table[s][method]["rank1"] for s in args.seeds]
        line = f"{method:10s} mAP {mean_spread(maps)}  rank-1 {mean_spread(ranks)}"
        print(
            line + ("" if method == "pretrained" else f"  gain over pretrained {mean_spread(gains)} points")
        )
    (args.out / "summary.json").write_text(json.dumps({str(k): v for k, v in table.items()}, indent=1))


if __name__ == "__main__":
    main()
