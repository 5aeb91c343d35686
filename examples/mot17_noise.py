"""How noisy are a tracker's tracklets? rFM and rSW (TMC eq. 7-8) of our DeepSORT on MOT17 train, next to
the reference DeepSORT outputs (nwojke), both scored by `rfv mot-eval` (MOTChallenge preprocessing).

Tracks the public FRCNN detections of the 7 MOT17 train sequences (no images needed: `rfv track -c mot17`),
scores both trackers and prints MOTA, IDF1, rFM and rSW per sequence. The rFM / rSW pair of a tracker is what
`rfv simulate` reproduces on MARS (reid_from_video/configs/simulate/mars_<rfm>_<rsw>.yaml).

    python examples/mot17_noise.py [--data ../shared/data] [--out runs/mot17-noise]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from reid_from_video.cli import run_step as run

# The sequences the reference DeepSORT outputs cover: the FRCNN detections of the 7 train sequences.
FRCNN = [f"MOT17-{n:02d}-FRCNN" for n in (2, 4, 5, 9, 10, 11, 13)]


def example() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/mot17-noise"))
    args = parser.parse_args()
    mot17 = args.data / "mot17" / "train"
    reference = args.data / "mot17" / "trackers" / "deepsort"
    if not mot17.is_dir():
        raise SystemExit(f"{mot17}: MOT17 train not found (set --data or RFV_DATA)")
    sequences = "[" + ", ".join(FRCNN) + "]"
    track = ["track", str(mot17), "--out", str(args.out / "ours"), "-c", "mot17", "progress=false"]
    run([*track, f"cameras={sequences}"])
    for name, results in (("ours", args.out / "ours" / "mot"), ("reference", reference)):
        out = args.out / f"{name}-eval"
        run(["mot-eval", str(mot17), str(results), "--out", str(out), f"seqs={sequences}"])
    print(f"\n{'sequence':16s} {'tracker':10s} {'MOTA':>6s} {'IDF1':>6s} {'rFM':>6s} {'rSW':>6s}")
    for name in ("ours", "reference"):
        summary = json.loads((args.out / f"{name}-eval" / "summary.json").read_text())
        rows = {**summary["sequences"], "COMBINED": summary["COMBINED"]}
        for sequence, row in rows.items():
            clear, noise = row["clear"], row["noise"]
            print(
                f"{sequence:16s} {name:10s} {100 * clear['mota']:6.1f} {100 * clear['idf1']:6.1f} "
                f"{noise['rfm']:6.3f} {noise['rsw']:6.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(example())
