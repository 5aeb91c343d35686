"""Camera folder -> deployed model, on real video: `rfv run` on PETS09-S2L1, then the camera re-tracked with
the model it trained, and labelled again with it.

1. `rfv run VIDEO --out OUT/run -c tmc` with the real models of ../shared/data: YOLOX-nano detections
   (`track.detector.weights`: the file alone picks the yolox backend), DeepSORT with OSNet-x0.25
   appearance, then, with ``--start osnet`` (the default), OSNet-x0.25 adapted to the camera without labels
   (`train.model.init`: first labels from its features, TMC training from it, a CPU schedule of
   :data:`OSNET_CPU`), or with ``--start tiny`` the tiny CNN trained from scratch on labels from OSNet
   features (:data:`TINY_TMC`); ONNX export; mot-eval and label quality against PETS09's MOT15 ground
   truth (scaled to the video's 480 x 360).
2. `rfv track VIDEO -c pets09` again with the exported ONNX model as the tracker's embedder (gating
   matches with the appearance gate its card carries, calibrated by `rfv train` on the camera), scored by
   `rfv mot-eval` next to the OSNet tracking of step 1; OSNet's gate by the same rule, from the features
   its tracking stored, printed beside the hand-set 0.3 it tracked with.
3. `rfv label` of the run's tracklets from the features of OSNet-x0.25 and of the exported model, with the
   run's label settings, each scored against the gt (purity, NMI, ARI).

    python examples/camera_folder_to_model.py [--data ../shared/data] [--out runs/pets09-run]
        [--start osnet|tiny] [KEY=VALUE ...]    # rfv run overrides, e.g. train.epochs=5
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from reid_from_video.cli import run_step as run
from reid_from_video.embed.card import card_path
from reid_from_video.embed.gate import calibrate_gate
from reid_from_video.embed.identity import model_identity
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.io.mot import read_mot, write_mot
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.stored_features import read_stored_features

SCALE = 0.625  # MOT15's PETS09 gt is in 768 x 576 coordinates, the video 480 x 360
TINY_TMC = [  # reid_from_video/configs/train/tmc_synth.yaml's network and schedule: minutes on a CPU
    "train.model.backbone=tiny",
    "train.model.weights=none",
    "train.model.input_size=[128, 64]",
    "train.epochs=20",
    "train.threads=1",
    "train.data.iters=40",
    "train.data.workers=1",
    "train.optim.lr=1e-3",
    "train.tmc.alpha=0.99",
    "train.tmc.association.cluster.k1=8",
    "train.tmc.association.cluster.k2=2",
    "train.tmc.association.cluster.min_samples=2",
    "train.tmc.association.cluster.rho=0.02",
    "label.tmc.association.cluster.rho=0.02",
    "label.tmc.association.cluster.min_samples=2",
]
OSNET_CPU = [  # the preset's TMC from OSNet-x0.25 at 256 x 128, shortened to 120 steps for a 2-core CPU
    "train.epochs=3",
    "train.data.iters=40",
    "train.threads=2",
    "train.data.workers=1",
    "train.eval.every=3",
]


def scaled_gt(gt_file: Path, camera: str, out: Path) -> Path:
    """A MOT tree whose one sequence (named as the camera) holds the gt in video coordinates."""
    gt = read_mot(gt_file)
    gt[["x", "y", "w", "h"]] *= SCALE
    write_mot(out / camera / "gt" / "gt.txt", gt, kind="gt")
    return out


def osnet_gate(store_path: Path, osnet: Path) -> float:
    """The appearance gate :mod:`reid_from_video.embed.gate` gives OSNet on the store its tracking wrote
    (rfv train's rule: 1 % of the pairs of people seen in one frame closer), from the stored features."""
    store = TrackletStore(store_path)
    index = store.read_index()
    features = read_stored_features(store, index, model_identity(ReidModel.load(osnet, "cpu")))
    gate = calibrate_gate(
        lambda rows: features[rows],
        index["camera"].to_numpy(),
        index["frame"].to_numpy(),
        index["track"].to_numpy(),
        quantile=0.01,
        max_frames=400,
        min_pairs=100,
    )
    assert gate is not None, "PETS09 has hundreds of frames with several people"
    return gate.max_cosine_distance


def label_quality(out: Path, gt: Path, models: dict[str, Path]) -> None:
    """``rfv label`` of the run's tracklets from each model's features, with the run's label settings."""
    settings = ["-c", str(out / "run" / "label" / "config.yaml")]
    rows = []
    for name, model in models.items():
        folder = out / f"labels-{model.stem}-{model.parent.name}"
        store = out / "run" / "track"
        run(["label", str(store), "--out", str(folder), "--model", str(model), "--gt", str(gt), *settings])
        report = json.loads((folder / "label_report.json").read_text())
        quality = report["quality"]["labels"]
        rows.append((name, report["labels"], quality))
    print(f"\n{'label features':28s} {'labels':>6s} {'frames':>7s} {'purity':>7s} {'NMI':>6s} {'ARI':>6s}")
    for name, labels, q in rows:
        print(
            f"{name:28s} {labels:6d} {100 * q['labelled_share']:6.1f}% {q['purity']:7.3f} {q['nmi']:6.3f} "
            f"{q['ari']:6.3f}"
        )


def example() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("RFV_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=Path("runs/pets09-run"))
    parser.add_argument(
        "--start", choices=("osnet", "tiny"), default="osnet", help="what training starts from"
    )
    parser.add_argument("overrides", nargs="*", help="rfv run overrides")
    args = parser.parse_args()
    video = args.data / "video" / "pets09_s2l1_view1.avi"
    detector = args.data / "models" / "yolox_nano.onnx"
    osnet = args.data / "models" / "osnet_x0_25_msmt17.onnx"
    if not video.is_file():
        raise SystemExit(f"{video}: not found (set --data or RFV_DATA)")
    gt = scaled_gt(args.data / "mot15" / "PETS09-S2L1" / "gt" / "gt.txt", video.stem, args.out / "gt")
    tracking = ["-c", "pets09", f"detector.weights={detector}", "progress=false"]
    start = (
        [f"train.model.init={osnet}", *OSNET_CPU]
        if args.start == "osnet"
        else [
            f"label_model={osnet}",
            *TINY_TMC,
        ]
    )
    run(
        ["run", str(video), "--out", str(args.out / "run"), "-c", "tmc", f"gt={gt}"]
        + [
            f"track.detector.weights={detector}",  # the preset's default: ultralytics yolo11n.pt (downloaded)
            "track.embedder.backend=onnx",
            f"track.embedder.weights={osnet}",
        ]
        + ["track.tracker.max_cosine_distance=0.3", "track.tracker.output_missed=1", "track.progress=false"]
        + [*start, "train.progress=false", *args.overrides]
    )
    ours = args.out / "run" / "export" / "model.onnx"
    retrack = args.out / "retrack"
    run(
        [
            "track",
            str(video),
            "--out",
            str(retrack),
            *tracking,
            "embedder.backend=onnx",
            f"embedder.weights={ours}",
        ]
    )
    run(["mot-eval", str(gt), str(retrack / "mot"), "--out", str(args.out / "retrack-eval")])
    print(f"\n{'embedder':28s} {'MOTA':>6s} {'IDF1':>6s} {'IDSW':>5s} {'rFM':>6s} {'rSW':>6s}")
    for name, folder in (
        ("OSNet-x0.25 (MSMT17)", "run/mot-eval"),
        ("ours (rfv run's model.onnx)", "retrack-eval"),
    ):
        combined = json.loads((args.out / folder / "summary.json").read_text())["COMBINED"]
        clear, noise = combined["clear"], combined["noise"]
        print(
            f"{name:28s} {100 * clear['mota']:6.1f} {100 * clear['idf1']:6.1f} "
            f"{int(clear['num_switches']):5d} {noise['rfm']:6.3f} {noise['rsw']:6.3f}"
        )
    print(
        f"\nappearance gate: OSNet-x0.25 tracked with the hand-set 0.3; the calibration rule gives it "
        f"{osnet_gate(args.out / 'run' / 'track', osnet):.3f}. Ours tracked with its card's "
        f"{json.loads(card_path(ours).read_text())['appearance_gate']:.3f}"
    )
    label_quality(args.out, gt, {"OSNet-x0.25 (MSMT17)": osnet, "ours (model.onnx)": ours})
    print(f"\nthe model: {ours} (card {ours}.json); the report: {args.out / 'run' / 'report.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(example())
