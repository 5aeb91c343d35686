"""An OSNet state dict from the initializers of an ONNX OSNet file exported in eval mode (batch norm folded).

An exporter in eval mode (``torch.onnx.export``, as torchreid's and boxmot's exports run) folds every
BatchNorm2d into the convolution before it: the file holds ``W' = W * g / sqrt(v + eps)`` and
``b' = beta + (conv bias - m) * g / sqrt(v + eps)`` and no BatchNormalization node for them. The four factors
cannot be recovered from the two products, so the folded convolution is loaded as itself: ``conv.weight = W'``
and its BatchNorm2d made an identity plus the bias, ``weight = 1``, ``bias = b'``, ``running_mean = 0``,
``running_var = 1 - eps``, so that in eval mode ``(x - 0) / sqrt(1 - eps + eps) * 1 + b' = x + b'``: the
network computes what the file computes. (In training mode batch norm normalises by the batch's
statistics, so training from a folded file starts from unit-scale channels; a state dict file, which keeps
the four factors, does not have this difference.) Nodes the exporter leaves unfolded (OSNet's ``fc``: Gemm
and BatchNormalization) load as they are. A file whose convolutions keep their BatchNormalization nodes (a
training-mode export) has more nodes than OSNet has calls, and is refused.

Initializers are matched to modules by the graph's topology, not by their names (an exporter names folded
weights ``onnx::Conv_1049``): the network is run once with hooks to list its Conv2d, BatchNorm, Linear calls
in execution order, a BatchNorm2d paired with the convolution whose output it normalises; the file's Conv,
Gemm and BatchNormalization nodes, in the graph's (topologically sorted) order, must correspond one to one,
each checked for kernel, groups, strides, padding and shapes. A module called more than once (the channel
gate is shared by the four streams of a block) must get the same initializers every time. Parallel streams
of equal shapes could still be ordered differently by another exporter, so the loaded network is finally run
beside onnxruntime on a probe batch and must agree (cosine >= :data:`PROBE_COSINE` per row).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from reid_from_video.core.errors import InputError

PROBE_COSINE = 0.999
PARAMETRIC = ("Conv", "Gemm", "BatchNormalization")
DEFAULT_INPUT = (1, 3, 256, 128)  # for dimensions the file leaves symbolic


@dataclass
class Call:
    """One call of a parametric module in the network's forward pass."""

    name: str
    module: nn.Module
    norm: tuple[str, nn.BatchNorm2d] | None = None  # the BatchNorm2d applied to this convolution's output


def onnx_osnet_state(path: Path, net: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict for ``net`` (an OSNet backbone) from the ONNX file ``path``; one :class:`InputError`
    naming the file and the first node that does not fit."""
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path)).graph
    except Exception as error:  # protobuf decode and I/O errors: not an ONNX file
        raise InputError(path, f"cannot load as an ONNX model: {error}") from None
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:  # weights kept as Constant nodes, or passed on by Identity (a shared module's)
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            arrays[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Identity" and node.input[0] in arrays:
            arrays[node.output[0]] = arrays[node.input[0]]
    nodes = [node for node in graph.node if node.op_type in PARAMETRIC]
    shape = _input_shape(path, graph)
    calls = _calls(net, shape)
    if len(nodes) != len(calls):
        raise InputError(
            path,
            f"not this OSNet: {len(nodes)} Conv/Gemm/BatchNormalization nodes, the network has {len(calls)} "
            f"parametric calls (another network, or batch norm not folded into the convolutions)",
        )
    state: dict[str, torch.Tensor] = {}
    for node, call in zip(nodes, calls, strict=True):
        for key, value in _node_state(path, node, call, arrays).items():
            if key in state and not torch.equal(state[key], value):
                raise InputError(path, f"node {node.name}: {key} differs from an earlier call of its module")
            state[key] = value
    _check_probe(path, net, state, shape)
    return state


def _input_shape(path: Path, graph: Any) -> tuple[int, ...]:
    dims = graph.input[0].type.tensor_type.shape.dim if graph.input else []
    if len(dims) != len(DEFAULT_INPUT):
        raise InputError(path, "not an OSNet: its input is not one N x 3 x H x W image batch")
    pairs = zip(dims, DEFAULT_INPUT, strict=True)
    return tuple(dim.dim_value if dim.dim_value > 0 else default for dim, default in pairs)


def _calls(net: nn.Module, shape: tuple[int, ...]) -> list[Call]:
    """The network's parametric calls in execution order, each BatchNorm2d attached to its convolution."""
    names = {module: name for name, module in net.named_modules()}
    records: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        records.append((module, inputs[0], output))

    kinds = (nn.Conv2d, nn.BatchNorm2d, nn.Linear, nn.BatchNorm1d)
    hooks = [m.register_forward_hook(record) for m in net.modules() if isinstance(m, kinds)]
    training = net.training
    try:
        with torch.no_grad():
            net.eval()(torch.zeros(shape))
    finally:
        net.train(training)
        for hook in hooks:
            hook.remove()
    calls: list[Call] = []
    last_output = None
    for module, given, output in records:
        last = calls[-1] if calls else None
        follows_conv = last is not None and isinstance(last.module, nn.Conv2d) and last.norm is None
        if isinstance(module, nn.BatchNorm2d) and follows_conv and given is last_output:
            last.norm = (names[module], module)  # type: ignore[union-attr]
        else:
            calls.append(Call(names[module], module))
        last_output = output
    return calls


def _node_state(path: Path, node: Any, call: Call, arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The state dict entries of ``call``'s module(s) from ``node``'s initializers."""

    def fail(problem: str) -> InputError:
        return InputError(path, f"node {node.name or node.op_type} ({call.name}): {problem}")

    def value(index: int) -> torch.Tensor | None:
        if index >= len(node.input) or not node.input[index]:
            return None
        if node.input[index] not in arrays:
            raise fail(f"input {node.input[index]} is computed, not an initializer")
        return torch.from_numpy(np.array(arrays[node.input[index]], dtype=np.float32))

    attributes = {a.name: _attribute(a) for a in node.attribute}
    module = call.module
    if isinstance(module, nn.Conv2d):
        expected_op = "Conv"
    elif isinstance(module, nn.Linear):
        expected_op = "Gemm"
    else:
        expected_op = "BatchNormalization"
    if node.op_type != expected_op:
        raise fail(f"expected {expected_op}, found {node.op_type}")
    if isinstance(module, nn.Conv2d):
        return _conv_state(call, module, attributes, value(1), value(2), fail)
    if isinstance(module, nn.Linear):
        weight, bias = value(1), value(2)
        plain = (attributes.get("transA", 0), attributes.get("alpha", 1.0), attributes.get("beta", 1.0))
        if plain != (0, 1.0, 1.0):
            raise fail("a Gemm other than x @ W.T + b")
        if weight is not None and not attributes.get("transB", 0):
            weight = weight.T
        _check_shape(weight, module.weight, "weight", fail)
        _check_shape(bias, module.bias, "bias", fail)
        return {f"{call.name}.weight": weight, f"{call.name}.bias": bias}  # type: ignore[dict-item]
    assert isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d)
    if abs(attributes.get("epsilon", 1e-5) - module.eps) > 1e-9:
        raise fail(f"epsilon {attributes.get('epsilon')} where the network has {module.eps}")
    entries = {}
    for index, key in enumerate(("weight", "bias", "running_mean", "running_var"), start=1):
        tensor = value(index)
        _check_shape(tensor, getattr(module, key), key, fail)
        entries[f"{call.name}.{key}"] = tensor
    return entries  # type: ignore[return-value]


def _conv_state(
    call: Call,
    conv: nn.Conv2d,
    attributes: dict[str, Any],
    weight: torch.Tensor | None,
    bias: torch.Tensor | None,
    fail: Any,
) -> dict[str, torch.Tensor]:
    geometry = {
        "kernel_shape": list(conv.kernel_size),
        "group": conv.groups,
        "strides": list(conv.stride),
        "pads": list(conv.padding) * 2,  # type: ignore[arg-type]
        "dilations": list(conv.dilation),
    }
    defaults = {"group": 1, "strides": [1, 1], "pads": [0, 0, 0, 0], "dilations": [1, 1]}
    for key, expected in geometry.items():
        found = attributes.get(key, defaults.get(key, expected))
        if found != expected:
            raise fail(f"{key} {found}, the network's is {expected}")
    _check_shape(weight, conv.weight, "weight", fail)
    entries = {f"{call.name}.weight": weight}
    if call.norm is None:
        if (bias is None) != (conv.bias is None):
            raise fail("a bias where the network has none, or none where it has one")
        if bias is not None:
            _check_shape(bias, conv.bias, "bias", fail)
            entries[f"{call.name}.bias"] = bias
        return entries  # type: ignore[return-value]
    # Batch norm folded into this convolution: the norm becomes the identity plus the folded bias.
    name, norm = call.norm
    folded_bias = torch.zeros(conv.out_channels) if bias is None else bias
    _check_shape(folded_bias, norm.bias, "bias", fail)
    entries.update(
        {
            f"{name}.weight": torch.ones(norm.num_features),
            f"{name}.bias": folded_bias,
            f"{name}.running_mean": torch.zeros(norm.num_features),
            f"{name}.running_var": torch.full((norm.num_features,), 1.0 - norm.eps),
        }
    )
    return entries  # type: ignore[return-value]


def _attribute(attribute: Any) -> Any:
    from onnx import helper

    value = helper.get_attribute_value(attribute)
    return list(value) if isinstance(value, list | tuple) else value


def _check_shape(found: torch.Tensor | None, expected: torch.Tensor | None, what: str, fail: Any) -> None:
    if found is None or expected is None or tuple(found.shape) != tuple(expected.shape):
        got = None if found is None else tuple(found.shape)
        wanted = None if expected is None else tuple(expected.shape)
        raise fail(f"{what} of shape {got}, the network's is {wanted}")


def _check_probe(path: Path, net: nn.Module, state: dict[str, torch.Tensor], shape: tuple[int, ...]) -> None:
    """The network with ``state`` and onnxruntime must give the same features on a probe batch."""
    import copy

    import onnxruntime as ort

    probe = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    loaded = copy.deepcopy(net)
    loaded.load_state_dict(state, strict=False)
    with torch.no_grad():
        ours = loaded.eval()(probe).flatten(1)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    theirs = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: probe.numpy()})[0]).flatten(1)
    cosine = torch.nn.functional.cosine_similarity(ours, theirs.to(ours.dtype), dim=1).min().item()
    if cosine < PROBE_COSINE:
        raise InputError(
            path,
            f"loaded into OSNet, the features differ from onnxruntime's (cosine {cosine:.4f} < "
            f"{PROBE_COSINE}): the graph's node order does not follow OSNet's",
        )
