"""ONNX export: the eval-mode network with a dynamic batch axis (``images`` N x 3 x H x W -> ``features``
N x D, L2-normalised), at a chosen opset, checked by ``onnx.checker``.

torch >= 2.9 defaults to the ``torch.export``-based exporter (``dynamo=True``), which needs the
``onnxscript`` package. The TorchScript-based exporter (``dynamo=False``) needs nothing more, works offline
and, at opset 17, writes IR version 8, which every onnxruntime of the last years reads: it is the one used.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from reid_from_video.export.errors import ExportError

INPUT_NAME = "images"
OUTPUT_NAME = "features"
DEFAULT_OPSET = 17
EXPORTER = "torch.onnx.export (TorchScript-based, dynamo=False)"


def export_onnx(model: Any, example: Any, path: Path, opset: int = DEFAULT_OPSET) -> dict[str, Any]:
    """Export ``model`` (eval mode, CPU) traced on ``example`` to ``path``; returns what the card records
    (opset, IR version, exporter)."""
    import onnx
    import torch

    model = model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter's notice
            warnings.simplefilter("ignore", FutureWarning)
            torch.onnx.export(
                model,
                (example,),
                str(path),
                dynamo=False,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=opset,
                do_constant_folding=True,
            )
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except Exception as error:  # the exporter and checker raise many types (unsupported op or opset)
        problem = f"ONNX export at opset {opset} failed ({EXPORTER}): {type(error).__name__}: {error}"
        raise ExportError(path, problem) from None
    opsets = {entry.domain or "ai.onnx": entry.version for entry in proto.opset_import}
    return {"opset": opsets.get("ai.onnx", opset), "ir_version": proto.ir_version, "exporter": EXPORTER}
