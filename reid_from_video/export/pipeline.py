"""``rfv export``: a ``model.pt`` of ``rfv train`` -> TorchScript and / or ONNX files, each checked for parity
against the PyTorch network and described by a JSON model card beside it.

Per format: export into a temporary folder inside ``out``, load the file with the runtime
(:class:`~reid_from_video.embed.runtime.ReidModel`, on the CPU), embed the parity crops in two batches of
different sizes (the batch axis is dynamic), compare with the PyTorch features, and only when within the
tolerance write the card and rename the model into ``out``. A failed check leaves no model file behind.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from reid_from_video.core.config import save_config
from reid_from_video.core.lock import output_lock
from reid_from_video.embed.card import ModelCard, card_path
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.embed.source import Source, metrics_of, read_source
from reid_from_video.export import parity as parity_check
from reid_from_video.export.config import CONFIG_FILE, ExportConfig
from reid_from_video.export.onnx import INPUT_NAME, OUTPUT_NAME
from reid_from_video.export.result import ExportedModel, ExportResult, ParityFigures

SUFFIXES = {"torchscript": ".torchscript.pt", "onnx": ".onnx"}
log = logging.getLogger(__name__)
TRACE_BATCH = 2  # the example batch the exporters trace; parity then runs other batch sizes


def run_export(checkpoint: str | Path, out: str | Path, config: ExportConfig) -> ExportResult:
    """``rfv export``: ``checkpoint`` in each format of ``config.format`` into ``out`` (the models, their
    cards, export.json, export_config.yaml); the result (``export.json``)."""
    import torch

    out = Path(out)
    source = read_source(checkpoint)
    base_card = source.card()
    reference_model = ReidModel.from_torch(source.model, base_card, "cpu")
    crops = parity_check.parity_crops(config.images, config.batch, base_card.input_size, config.seed)
    reference = reference_model.embed(crops, batch_size=len(crops))
    example = torch.from_numpy(reference_model.preprocess((crops * TRACE_BATCH)[:TRACE_BATCH]))
    with output_lock(out):
        work = out / f".export-tmp-{os.getpid()}"  # a killed export's is removed by the next (core/lock.py)
        work.mkdir()
        try:
            formats = {
                fmt: _export_one(fmt, source, example, crops, reference, out, work, config)
                for fmt in config.formats()
            }
        finally:
            shutil.rmtree(work, ignore_errors=True)
        result = ExportResult(
            checkpoint=str(source.path),
            parity_crops=f"{len(crops)} from {config.images}" if config.images else f"{len(crops)} synthetic",
            formats=formats,
        )
        written = [*result.files(), result.write(out), save_config(config, out, CONFIG_FILE)]
        log.info("wrote %s", ", ".join(map(str, written)))
    return result


def _export_one(
    fmt: str,
    source: Source,
    example: Any,
    crops: list[np.ndarray],
    reference: np.ndarray,
    out: Path,
    work: Path,
    config: ExportConfig,
) -> ExportedModel:
    from reid_from_video.export.onnx import export_onnx
    from reid_from_video.export.torchscript import export_torchscript

    final = out / f"{config.name}{SUFFIXES[fmt]}"
    staged = work / final.name
    started = time.perf_counter()
    if fmt == "onnx":
        details = export_onnx(source.model, example, staged, config.opset)
    else:
        export_torchscript(source.model, example, staged, config.freeze)
        details = {"freeze": config.freeze}
    seconds = time.perf_counter() - started
    # Two batches of different sizes, neither the traced one: a batch-dependent graph would show.
    loaded = ReidModel.load(staged, "cpu", card=source.card())
    features = loaded.embed(crops, batch_size=len(crops) // 2 + 1)
    figures = parity_check.measure(reference, features)
    parity_check.check(figures, final, config.min_cosine, config.max_abs_diff)
    card = _card(fmt, final, source, figures, config, details)
    card.write(card_path(final))  # the card first: a model file is never without its card
    staged.replace(final)
    return ExportedModel(
        file=str(final),
        card=str(card_path(final)),
        bytes=final.stat().st_size,
        export_seconds=round(seconds, 3),
        parity=ParityFigures(**figures.to_dict()),
        **details,
    )


def _card(
    fmt: str,
    final: Path,
    source: Source,
    figures: parity_check.Parity,
    config: ExportConfig,
    details: dict[str, Any],
) -> ModelCard:
    import torch

    height, width = source.card().input_size
    dim = source.model.feature_dim
    versions = {"torch": torch.__version__}
    if fmt == "onnx":
        import onnx
        import onnxruntime

        versions.update(onnx=onnx.__version__, onnxruntime=onnxruntime.__version__)
    neck = "BN-neck feature" if source.config.get("neck", "bnneck") == "bnneck" else "pooled feature"
    return source.card(
        format=fmt,
        file=final.name,
        input={
            "name": INPUT_NAME if fmt == "onnx" else "x",
            "shape": ["batch", 3, height, width],
            "dtype": "float32",
            "layout": "NCHW",
            "preprocessing": "resize to input_size (bilinear), colour order, pixel / 255, (x - mean) / std",
        },
        output={
            "name": OUTPUT_NAME if fmt == "onnx" else "output",
            "shape": ["batch", dim],
            "feature": f"{neck} in eval mode, L2-normalised (the feature rfv evaluate scores)",
        },
        model=source.config,
        training=source.training,
        metrics=metrics_of(source.training),
        parity={
            **figures.to_dict(),
            "crops": config.images or f"synthetic (seed {config.seed})",
            "device": "cpu",
            "min_cosine_required": config.min_cosine,
            "max_abs_diff_required": config.max_abs_diff,
        },
        **details,
        versions=versions,
        source={"path": str(source.path.resolve()), "sha256": _sha256(source.path)},
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
