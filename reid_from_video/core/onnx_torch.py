"""An ONNX graph run by torch: onnx2torch converts it to a module, which runs on a torch device.

For a GPU where onnxruntime has no CUDA provider (its plain ``onnxruntime`` build; onnxruntime-gpu is a
separate, large package): :func:`reid_from_video.core.onnx_session.open_onnx` hands the model here when
torch sees a GPU and onnx2torch is installed. A batch axis that the file pins at 1 is freed as for
onnxruntime (:func:`~reid_from_video.core.onnx_session.free_batch_axis`), kept only when a probe batch of
two gives the outputs of two single calls on the same module. The outputs match onnxruntime's to float
rounding (tests/test_onnx_torch.py, on the CPU); on a GPU, torch's defaults apply (cuDNN may use TF32 for
convolutions), so they differ from the CPU's in the last digits.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from reid_from_video.core.onnx_session import OnnxModel, RunBatch

log = logging.getLogger(__name__)


def on_torch(model: OnnxModel, device: str, free_batch: bool = True) -> OnnxModel:
    """``model`` (opened by onnxruntime, which describes its input) run by torch on ``device`` instead."""
    import onnx

    from reid_from_video.core.onnx_session import batch_of_two_alike, free_batch_axis, probeable

    run = None
    if free_batch and model.batch == 1 and probeable(model.input_shape):
        run = _runner(onnx.load_from_string(free_batch_axis(model.path)), device)
        if not batch_of_two_alike(run, run, model.input_shape):
            log.info("%s: one item per call on %s (its batch of 1 could not be freed)", model.path, device)
            run = None
    freed = run is not None
    if run is None:
        run = _runner(onnx.load(str(model.path)), device)
    log.info("%s: runs on %s through torch (onnx2torch)", model.path, device)
    kind = "cuda" if device.startswith("cuda") else device
    batch = None if freed else model.batch
    return dataclasses.replace(model, device=kind, batch=batch, batch_freed=freed, on_torch=run)


def _runner(proto: object, device: str) -> RunBatch:
    """The graph as a function numpy -> numpy (its first output, float32) on ``device``."""
    import torch
    from onnx2torch import convert

    module = convert(proto).eval().to(device)

    @torch.no_grad()
    def run(batch: np.ndarray) -> np.ndarray:
        out = module(torch.from_numpy(np.ascontiguousarray(batch)).to(device))
        out = out[0] if isinstance(out, (list, tuple)) else out
        return out.float().cpu().numpy()

    return run
