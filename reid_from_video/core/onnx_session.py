"""Opening an ONNX model for inference: the one place that picks the execution provider and the CPU
threads, and frees a batch axis that the file pins at 1.

On a GPU the model runs on onnxruntime's CUDA provider where that is installed (onnxruntime-gpu); where
only the CPU build is (the plain ``onnxruntime`` package) and torch sees a GPU, the graph is converted to
a torch module by onnx2torch (the ``gpu`` extra) and runs there (:mod:`reid_from_video.core.onnx_torch`);
without either it runs on the CPU, with a warning when ``cuda`` was asked for.

Many published ONNX files are exported with a fixed batch of 1 (the OSNet-x0.25 MSMT17 file and the YOLOX
files among them), so every crop or frame costs one call. Their graphs usually pin the batch in two places
only: the declared input / output shapes and the target shape of a ``Reshape`` (``[1, -1]``). Both are
rewritten here (the batch dimension symbolic; a ``Reshape`` target's leading 1 becomes 0, ONNX's "copy
this dimension from the input"), and the rewrite is kept only when a probe batch of two gives the same
outputs as two single calls; otherwise the file runs as it is, one item per call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reid_from_video.core.errors import InputError
from reid_from_video.core.runtime_options import OnnxRuntime

log = logging.getLogger(__name__)

RunBatch = Callable[[np.ndarray], np.ndarray]
PROBE_TOLERANCE = 1e-4  # relative to the largest output: a batched call may sum in another order


@dataclass(frozen=True)
class OnnxModel:
    """An ONNX model with one image-like input, run by its onnxruntime ``session`` (or by ``on_torch``).

    ``batch`` is the fixed batch the model takes (pad to it), or None when any batch goes; ``device`` is
    ``cuda`` or ``cpu``; ``batch_freed`` says the file's fixed batch of 1 was rewritten to a free one;
    ``input_type`` is onnxruntime's name of the input's element type (``tensor(float)``). ``on_torch``:
    the graph as a torch module's runner (:mod:`reid_from_video.core.onnx_torch`), which then runs it
    instead of ``session``.
    """

    path: Path
    session: Any
    input_name: str
    input_shape: tuple
    batch: int | None
    device: str
    batch_freed: bool = False
    input_type: str = "tensor(float)"
    on_torch: RunBatch | None = None

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The first output for ``batch``."""
        if self.on_torch is not None:
            return self.on_torch(batch)
        return self.session.run(None, {self.input_name: batch})[0]


def open_onnx(
    path: str | Path, device: str = "auto", runtime: OnnxRuntime | None = None, free_batch: bool = True
) -> OnnxModel:
    """``path`` as an onnxruntime session: on CUDA when ``device`` is ``auto`` or ``cuda`` and onnxruntime
    has the provider (else through torch on the GPU, see the module docstring), run as ``runtime`` says on
    the CPU, and with a pinned batch of 1 freed where that is safe (``free_batch``). Idle threads that do
    not spin leave the cores to other work sharing them; the fastest optimization level depends on the
    network and the CPU, and the outputs differ in the last digits between levels. An unreadable file is
    an :class:`InputError` naming it."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "ONNX model file not found")
    available = ort.get_available_providers()
    wants_gpu = device == "auto" or device.startswith("cuda")
    providers = ["CUDAExecutionProvider"] if wants_gpu and "CUDAExecutionProvider" in available else []
    providers.append("CPUExecutionProvider")
    runtime = runtime or OnnxRuntime()
    options = ort.SessionOptions()
    if runtime.threads:
        options.intra_op_num_threads = runtime.threads
    if not runtime.spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    level = f"ORT_ENABLE_{runtime.optimization.upper()}"
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        raise InputError(path, f"cannot load as an ONNX model: {error}") from None
    used = "cuda" if session.get_providers()[0] == "CUDAExecutionProvider" else "cpu"
    model = _described(path, session, used)
    if wants_gpu and used == "cpu":
        gpu = torch_gpu(device)
        if gpu is not None:
            from reid_from_video.core.onnx_torch import on_torch

            try:
                return on_torch(model, gpu, free_batch)
            except Exception as error:  # an op onnx2torch cannot convert: onnxruntime's CPU runs it
                log.warning("%s: cannot run on %s through torch (%s); running on CPU", path, gpu, error)
        elif device.startswith("cuda"):
            log.warning(
                "%s: onnxruntime has no CUDA provider here, and torch has no GPU or onnx2torch is missing "
                "(pip install onnx2torch); running on CPU",
                path,
            )
    if free_batch and model.batch == 1:
        freed = _with_free_batch(path, model, options, providers)
        if freed is not None:
            return freed
    return model


def torch_gpu(device: str) -> str | None:
    """The torch device to run an ONNX graph on when onnxruntime has no CUDA provider: ``device`` (``cuda``
    for ``auto``) where torch sees a GPU and onnx2torch is installed, else None."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    try:
        import onnx2torch  # noqa: F401
    except ImportError:
        return None
    return "cuda" if device == "auto" else device


def _described(path: Path, session: Any, device: str, batch_freed: bool = False) -> OnnxModel:
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise InputError(path, f"expected one input, found {len(inputs)}: {[i.name for i in inputs]}")
    shape = tuple(inputs[0].shape)
    batch = shape[0] if shape and isinstance(shape[0], int) else None
    return OnnxModel(path, session, inputs[0].name, shape, batch, device, batch_freed, inputs[0].type)


def _with_free_batch(path: Path, model: OnnxModel, options: Any, providers: list[str]) -> OnnxModel | None:
    """``model`` with its batch of 1 freed, or None (logged) when the graph does not allow it."""
    import onnxruntime as ort

    if not probeable(model.input_shape):
        return None
    try:
        proto = free_batch_axis(path)
        session = ort.InferenceSession(proto, options, providers=providers)
        freed = _described(path, session, model.device, batch_freed=True)
        if not batch_of_two_alike(freed.run, model.run, model.input_shape):
            raise ValueError("a batch of 2 gives other outputs than two single calls")
    except Exception as error:  # any failure keeps the file as it is: correct, one item per call
        log.info("%s: runs one item per call (its fixed batch of 1 could not be freed: %s)", path, error)
        return None
    log.debug("%s: fixed batch of 1 freed", path)
    return freed


def probeable(shape: tuple) -> bool:
    """Whether a probe batch can be made for an input of ``shape``: every dimension but the batch known."""
    return len(shape) >= 2 and all(isinstance(s, int) and s > 0 for s in shape[1:])


def batch_of_two_alike(batched: RunBatch, single: RunBatch, shape: tuple) -> bool:
    """Whether ``batched`` on a random batch of two gives what ``single`` gives on each item alone, to
    ``PROBE_TOLERANCE`` of the largest output: the check that a freed batch axis changed nothing."""
    probe = np.random.default_rng(0).random((2, *shape[1:]), dtype=np.float32)
    together = batched(probe)
    apart = np.concatenate([single(probe[:1]), single(probe[1:])])
    scale = max(float(np.abs(apart).max()), 1e-12)
    return together.shape == apart.shape and float(np.abs(together - apart).max()) <= PROBE_TOLERANCE * scale


def free_batch_axis(path: Path) -> bytes:
    """The model in ``path`` with dimension 0 of its inputs and outputs symbolic (``N``) and every
    ``Reshape`` target that pins it at 1 set to copy it (0); the serialised graph."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(path))
    graph = proto.graph
    for value in [*graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "N"
    del graph.value_info[:]  # inferred shapes with the old batch; onnxruntime infers them again
    constants = {node.output[0]: node for node in graph.node if node.op_type == "Constant"}
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    for node in graph.node:
        allow_zero = any(a.name == "allowzero" and a.i for a in node.attribute)
        if node.op_type != "Reshape" or len(node.input) < 2 or allow_zero:
            continue  # (allowzero: a 0 in the target would mean a zero-sized dimension)
        target = node.input[1]
        if target in initializers:
            tensor = initializers[target]
        elif target in constants and constants[target].attribute:
            tensor = constants[target].attribute[0].t
        else:
            continue  # computed at run time (Shape -> Gather ...): already follows the batch
        values = numpy_helper.to_array(tensor).copy()
        if values.ndim == 1 and len(values) and values[0] == 1:
            values[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))
    return proto.SerializeToString()
