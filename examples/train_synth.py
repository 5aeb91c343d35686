"""Both trainers on the synthetic world, on a CPU in minutes: cross-camera mAP / rank-1 on held-out
identities before (the untrained network) and after training.

The world: 4 cameras x 120 s, 120 people (``rfv synth cameras=4 identities=120 seconds=120 density=8``),
its MARS-layout export (train and test identities disjoint). TAUDL trains on the export's train tracklets,
every tracklet its own label in its camera (as TAUDL trains on MARS). TMC trains on the same tracklets cut
by the MARS 1.7 / 1.2 noise preset (``rfv simulate``), isolated and first associated on colour histograms
(``rfv label``), then re-associated with its own Mean Net before every epoch. Both use the ``*_synth``
presets (a tiny CNN from scratch, 128 x 64, one thread) and are evaluated on the test split by ``rfv
evaluate``'s code. Every step is the ``rfv`` command a user would type; the figures are in OUT/*/
train_report.json and epochs.csv.

    python examples/train_synth.py [--out runs/train-synth] [--methods taudl tmc tmc-no-isolation]
        [KEY=VALUE ...]     # train overrides for every method, e.g. epochs=10
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from reid_from_video.cli import run_step as run

WORLD = ["cameras=4", "identities=120", "seconds=120", "density=8", "seed=0", "contact_sheet=false"]
LABEL = [  # histogram features: a small world has ~1% same-identity pairs and few sub-tracklets per person
    "tmc.association.cluster.rho=0.01",
    "tmc.association.cluster.distance=cosine",
    "tmc.association.cluster.min_samples=2",
]


def example() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/train-synth"))
    parser.add_argument(
        "--methods", nargs="+", default=["taudl", "tmc"], choices=["taudl", "tmc", "tmc-no-isolation"]
    )
    parser.add_argument("overrides", nargs="*", help="train config overrides for both methods")
    args = parser.parse_args()
    out: Path = args.out
    mars = out / "world" / "mars"
    if not (mars / "info").is_dir():
        run(["synth", "--out", str(out / "world"), *WORLD])
    evaluate = [f"eval.data={mars}", "progress=false", *args.overrides]
    if "taudl" in args.methods:
        run(["train", str(mars), "--out", str(out / "taudl"), "-c", "taudl_synth", *evaluate])
    if any(m.startswith("tmc") for m in args.methods) and not (out / "noisy" / "index.csv").is_file():
        run(["simulate", str(mars), "--out", str(out / "noisy"), "-c", "mars_1.7_1.2"])
    for method in [m for m in args.methods if m.startswith("tmc")]:
        # The ablation: whole (noisy) tracklets, labelled and trained without isolation.
        whole = ["tmc.isolation.enabled=false"] if method == "tmc-no-isolation" else []
        labels = out / f"labels-{method}"
        if not (labels / "labels.csv").is_file():
            run(
                ["label", str(out / "noisy"), "--out", str(labels), "-c", "tmc_mars", "--model", "histogram"]
                + [*LABEL, *whole]
            )
        train = ["train", str(out / "noisy"), "--out", str(out / method), "--labels", str(labels)]
        run([*train, "-c", "tmc_synth", *evaluate] + (["tmc.isolation=false"] if whole else []))
    print("\nheld-out identities of the world's test split (mAP / rank-1 %, untrained -> trained):")
    for method in args.methods:
        report = json.loads((out / method / "train_report.json").read_text())
        b, a = report["before"], report["after"]
        print(
            f"  {method:16s}  mAP {b['mAP']:5.1f} -> {a['mAP']:5.1f}   rank-1 {b['rank1']:5.1f} -> "
            f"{a['rank1']:5.1f}   ({report['epochs']} epochs, {report['seconds']:.0f} s, "
            f"{report['images_per_s']:.0f} images/s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(example())
