"""Benchmark: `rfv synth` at its default size (3 cameras x 60 s, 640x360, 10 fps, 40 identities).

No peer exists for this stage, so it prints absolute wall times and frames per second: the whole command
(render + videos + gt + MARS export + contact sheet), and the rendering alone (MARS and sheet off). The
target is about a minute or less on 2 CPU cores.

    python benchmarks/bench_synth.py [KEY=VALUE ...]      e.g. workers=1 seconds=30
"""

from __future__ import annotations

import argparse
import os
import tempfile

from reid_from_video.core.config import load_config
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.pipeline import synthesize


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="SynthConfig overrides")
    args = parser.parse_args()
    full = load_config(SynthConfig, None, args.overrides)
    render_only = load_config(
        SynthConfig, None, [*args.overrides, "mars.enabled=false", "contact_sheet=false"]
    )
    frames = full.cameras * full.n_frames
    print(f"{full.cameras} cameras x {full.n_frames} frames, {full.size}, {os.cpu_count()} CPUs")
    for label, config in (("everything", full), ("render only", render_only)):
        with tempfile.TemporaryDirectory() as tmp:
            result = synthesize(config, tmp, progress=False)
        line = f"{label:12s} {result.seconds:6.1f} s  {frames / result.seconds:6.0f} frames/s"
        if result.mars is not None:
            line += f"  ({result.mars.images} MARS crops)"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
