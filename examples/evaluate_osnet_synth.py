"""A real re-ID model on the synthetic world: `rfv synth`, then the OSNet ONNX model through `rfv evaluate`'s
code on the world's MARS-layout export, against chance (the same protocol scored with random features).

    python examples/evaluate_osnet_synth.py [--data ../shared/data] [--out runs/osnet-synth] [--seeds 100]
        [KEY=VALUE ...]     # synth overrides, e.g. identities=80 seconds=120 density=6 seed=1
"""

from __future__ import annotations

import argparse
import os
from functools import partial
from pathlib import Path

import numpy as np

from reid_from_video.core.config import load_config
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.evaluate.config import EvaluateConfig
from reid_from_video.evaluate.evaluation import evaluate_features, score_tracklets
from reid_from_video.io.tracklets import load_tracklets
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.pipeline import synthesize


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/osnet-synth"))
    parser.add_argument("--seeds", type=int, default=100, help="random-feature draws for the chance level")
    parser.add_argument("overrides", nargs="*", help="synth config overrides")
    args = parser.parse_args()

    world = synthesize(load_config(SynthConfig, None, args.overrides), args.out, progress=False)
    model = ReidModel.load(args.data / "models" / "osnet_x0_25_msmt17.onnx")
    config = EvaluateConfig()
    embed = partial(model.embed, batch_size=config.batch_size)
    summary = score_tracklets(world.mars.root, config, embed=embed)
    print(summary.report())

    protocol = load_tracklets(world.mars.root).protocol
    chance = [
        evaluate_features(np.random.default_rng(s).normal(size=(len(protocol.ids), 16)), protocol, config)
        for s in range(args.seeds)
    ]
    print(
        f"chance ({args.seeds} random-feature draws): mAP {100 * np.mean([c.mean_ap for c in chance]):.1f}, "
        f"rank-1 {100 * np.mean([c.rank(1) for c in chance]):.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
