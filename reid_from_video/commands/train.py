"""``rfv train``: a re-ID network from tracklet labels, TAUDL or TMC (``torchrun ... -m reid_from_video
train`` for several GPUs or nodes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.train.config import TrainConfig


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data", type=Path, help="a tracklet store (rfv track, rfv simulate) or a MARS root (its train split)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for checkpoints, model.pt and logs")
    parser.add_argument(
        "--labels",
        type=Path,
        help="an rfv label output folder: labels.csv (taudl: SSTT's labels; none: every tracklet its "
        "own) and sub_tracks.csv (tmc: the isolated sub-tracklets)",
    )


@command(
    "train",
    help="train a re-ID network from tracklet labels: TAUDL (per-camera branches + CCTA) or TMC",
    description="method=taudl: one classifier branch per camera on its tracklet labels (PCTD) and the "
    "cross-camera tracklet association loss (CCTA), batches balanced over cameras (TAUDL section 3.2). "
    "method=tmc: Net + Mean Net; before every epoch the (sub-)tracklets are associated anew with the Mean "
    "Net's features (DBSCAN, k-reciprocal Jaccard), both classifiers re-initialised from the centroids; hard "
    "and soft CE and triplet losses (TMC sections 3.3, 4.3). A checkpoint after every epoch: running the "
    "same command again resumes. eval.data=MARS_OR_STORE evaluates as it goes.",
    config=TrainConfig,
    add_arguments=_train_arguments,
)
def _run_train(args: argparse.Namespace, config: TrainConfig) -> None:
    from reid_from_video.train.run import run_train

    result = run_train(args.data, args.out, config, labels=args.labels)
    if result is not None:  # the main process (torchrun starts several)
        print(result.report())
