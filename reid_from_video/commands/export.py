"""``rfv export``: a trained model -> TorchScript / ONNX files with a parity check and a model card each."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.export.config import ExportConfig


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", type=Path, help="model.pt written by rfv train (or its checkpoint.pt: the kept network)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the model files and their cards")


@command(
    "export",
    help="export a trained model to TorchScript / ONNX, checked against PyTorch, with a JSON model card",
    description="Rebuild the network of CHECKPOINT (torch.load weights_only; no classifier; eval mode: the "
    "L2-normalised BN-neck feature that rfv evaluate scores) and export it with a dynamic batch axis: "
    "TorchScript (traced, frozen) and / or ONNX (opset `opset`), as `format` says. Each file is loaded "
    "back with the runtime and its features compared with PyTorch's on `batch` crops (synthetic, or from "
    "`images`): the largest absolute difference and the cosine of every row; outside the tolerance the "
    "command fails and writes no model. Beside each model, <file>.json: input size, mean / std, colour "
    "order, feature dimension, training method, data and metrics, parity figures, opset and versions. Use"
    " the files with `rfv embed`, `rfv evaluate --model` or as the tracker's embedder "
    "(embedder.backend=onnx embedder.weights=DIR/model.onnx).",
    config=ExportConfig,
    add_arguments=_export_arguments,
)
def _run_export(args: argparse.Namespace, config: ExportConfig) -> None:
    from reid_from_video.export.pipeline import run_export

    print(run_export(args.checkpoint, args.out, config).report())
