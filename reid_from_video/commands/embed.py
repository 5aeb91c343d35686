"""``rfv embed``: features of a folder of crops or a tracklet store with a re-ID model file."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.export.config import EmbedConfig


def _embed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "crops", type=Path, help="a folder of crop images (searched recursively, sorted), one image, or a "
        "tracklet store (its index order)",
    )  # fmt: skip
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        help="ONNX (.onnx), TorchScript (.pt, .ts) or rfv train's model.pt; preprocessing from <file>.json",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="the features file (.npy); its index goes beside it (.csv)"
    )


@command(
    "embed",
    help="embed crops (a folder or a tracklet store) with a re-ID model: features.npy + an index CSV",
    description="Read every crop (a folder recursively in sorted order, or a store in index order), run "
    "the model (ONNX through onnxruntime alone, TorchScript, or rfv train's model.pt) in batches on "
    "`device`, and write OUT (.npy, float32, one L2-normalised row per crop) and OUT with .csv (row, path, "
    "and for a store camera, track, frame, time_s, box, score, gt_id). Both files are written atomically.",
    config=EmbedConfig,
    add_arguments=_embed_arguments,
    out_is_file=True,
)
def _run_embed(args: argparse.Namespace, config: EmbedConfig) -> None:
    from reid_from_video.export.embedding import run_embed

    print(run_embed(args.crops, args.model, args.out, config).summary())
