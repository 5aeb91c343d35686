"""Benchmark: how well ``rfv associate`` links a synthetic camera network's tracklets across cameras, with
colour histograms, OSNet-x0.25 as downloaded, and the model adapted to these cameras.

It reads the folders ``benchmarks/bench_adaptation.py`` leaves (``OUT/seed<N>/tmc``: the rendered world
with its global gt ids, the ``rfv run`` that tracked it per camera and adapted OSNet to it by TMC), links
the run's tracklets with each feature source (``rfv associate``'s defaults), and scores the global ids with
``rfv mot-eval cross_camera=global`` against the world's gt: multi-camera IDF1 / IDP / IDR and the
cross-camera rFM / rSW, and the share of journeys (identities) whose camera sequence is right; the first
row is the per-camera tracking with no association (``cross_camera=per_camera``). Prints one table per
seed and the mean ± standard deviation over seeds.

    python benchmarks/bench_association_quality.py --osnet ../shared/data/models/osnet_x0_25_msmt17.onnx \\
        [--runs runs/bench-adaptation] [--out runs/bench-association]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from reid_from_video.associate.config import AssociateConfig
from reid_from_video.associate.run import run_associate
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.mot_eval import score_mot


def scores(gt: Path, mot: Path, mode: str) -> dict[str, float]:
    result, _ = score_mot(gt, mot, MotEvalConfig(hota=False, plots=False, cross_camera=mode))
    x = result.combined.cross_camera
    assert x is not None
    return {"IDF1": 100 * x.idf1, "IDP": 100 * x.idp, "IDR": 100 * x.idr, "rFM": x.rfm or 0,
            "rSW": x.rsw or 0, "journeys %": 100 * x.journey_share, "identities": x.identities,
            "persons": x.persons}  # fmt: skip


def one_seed(folder: Path, osnet: Path, out: Path) -> dict[str, dict[str, float]]:
    run, gt = folder / "run", folder / "world" / "gt"
    rows = {"per camera, no association": scores(gt, run / "track" / "mot", "per_camera")}
    sources = {
        "colour histograms": "histogram",
        "OSNet-x0.25, as downloaded": str(osnet),
        "OSNet-x0.25 adapted (TMC)": str(run / "train" / "model.pt"),
    }
    for name, model in sources.items():
        target = out / model.replace("/", "_")[-60:]
        run_associate(run, target, AssociateConfig(), model)
        rows[name] = scores(gt, target / "mot", "global")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osnet", type=Path, required=True)
    parser.add_argument("--runs", type=Path, default=Path("runs/bench-adaptation"))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-association"))
    args = parser.parse_args()
    seeds = sorted(p for p in args.runs.glob("seed*/tmc") if (p / "run" / "train" / "model.pt").is_file())
    if not seeds:
        raise SystemExit(f"{args.runs}: no seed*/tmc with a trained model (run bench_adaptation.py first)")
    tables = {p.parent.name: one_seed(p, args.osnet, args.out / p.parent.name) for p in seeds}
    columns = ["IDF1", "IDP", "IDR", "rFM", "rSW", "journeys %", "identities"]
    for seed, rows in tables.items():
        persons = next(iter(rows.values()))["persons"]
        print(f"\n{seed} ({persons} persons): multi-camera identity, cross-camera noise")
        print(f"{'':30s} " + " ".join(f"{c:>10s}" for c in columns))
        for name, row in rows.items():
            cells = (f"{row[c]:10d}" if c == "identities" else f"{row[c]:10.2f}" for c in columns)
            print(f"{name:30s} " + " ".join(cells))
    names = list(next(iter(tables.values())))
    for column in ("IDF1", "rFM", "rSW", "journeys %"):
        print(f"\nmean ± sd over {len(tables)} seed(s), {column}:")
        for name in names:
            values = [rows[name][column] for rows in tables.values()]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            print(f"{name:30s} {statistics.mean(values):6.2f} ± {spread:5.2f}")


if __name__ == "__main__":
    main()
