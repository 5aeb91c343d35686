"""Backbones by name: ``build_backbone(name, weights, last_stride) -> (module, channels)``.

A backbone maps an ``N x 3 x H x W`` image batch to an ``N x C x h x w`` feature map; pooling, neck and
classifiers are :mod:`reid_from_video.models.pooling` and :mod:`reid_from_video.models.heads`.

* ``resnet50`` (2048 channels, the papers' backbone) and ``resnet18`` (512): torchvision's ResNets without
  their average pooling and ``fc``. Their state dict keys are torchvision's (``conv1.weight``,
  ``layer1.0.conv1.weight``, ...), so an ImageNet state dict file of torchvision loads as it is.
  ``last_stride=1`` (the re-ID default, Luo et al. "Bag of Tricks", CVPRW 2019) removes the stride of the
  last stage: a 256 x 128 input gives a 16 x 8 map instead of 8 x 4.
* ``tiny`` (192 channels, ~0.24 M parameters): four conv-BN-ReLU blocks with the ResNet's strides
  (4, 8, 16, then 16 or 32), for tests and demos on a CPU. It has no pretrained weights.
* ``osnet_x1_0``, ``osnet_x0_75``, ``osnet_x0_5``, ``osnet_x0_25`` (512 channels): OSNet
  (:mod:`reid_from_video.models.osnet`), a re-ID network with torchreid's key names, so a torchreid or
  boxmot OSNet file loads (its ``classifier.*`` dropped). OSNet pools inside and returns its 512-d ``fc``
  feature as a 1 x 1 map, so it needs ``pooling=avg``; its stride is 16 (``last_stride=1``) by design.
  No ImageNet weights here: start from a re-ID file (``weights=FILE``, or ``model.init``, which also
  takes an OSNet ONNX file).

Weights (``weights``):

* ``"none"``: random initialisation. For a backbone that re-ID normally starts from ImageNet (the ResNets)
  a warning says so once, at build time.
* ``"imagenet"``: torchvision's ImageNet weights (``ResNet50_Weights.IMAGENET1K_V1``, ...), fetched by
  torchvision (from its cache, else the network). Without the network this fails with one error saying
  which file to fetch elsewhere and give as a path.
* anything else: the path of a state dict file (``torch.load(weights_only=True)``), e.g. torchvision's
  ``resnet50-0676ba61.pth``. As torchreid and boxmot save them, the state dict may sit under a
  ``state_dict`` key (beside epoch, optimizer, ...) and its keys may carry DataParallel's ``module.``
  prefix. Its keys must match the backbone's exactly (an ImageNet ``fc.*``, an OSNet ``classifier.*`` is
  dropped); a mismatch is one error naming the file and the first missing and unexpected keys.
"""

from __future__ import annotations

import pickle
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reid_from_video.core.checkpoint import unloadable
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.models.config import BACKBONES, IMAGENET, NO_WEIGHTS, OSNET_WIDTHS
from reid_from_video.models.osnet import osnet

RESNET_LAYERS = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")


def _resnet(arch: str) -> Callable[[int], nn.Module]:
    def build(last_stride: int) -> nn.Module:
        import torchvision

        net = getattr(torchvision.models, arch)(weights=None)
        if last_stride == 1:
            # The stride-2 convolutions of the last stage's first block (the 3x3 or first conv, and the
            # downsample shortcut).
            for module in net.layer4[0].modules():
                if isinstance(module, nn.Conv2d) and module.stride == (2, 2):
                    module.stride = (1, 1)
        return nn.Sequential(OrderedDict((name, getattr(net, name)) for name in RESNET_LAYERS))

    return build


def _conv_block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


TINY_WIDTHS = (32, 64, 96, 192)


def _tiny(last_stride: int) -> nn.Module:
    """Four conv-BN-ReLU blocks; the first followed by a max-pool, as a ResNet's stem (overall stride 4)."""
    a, b, c, d = TINY_WIDTHS
    stem = _conv_block(3, a, 2)
    stem.append(nn.MaxPool2d(3, stride=2, padding=1))
    blocks = OrderedDict(
        block1=stem,
        block2=_conv_block(a, b, 2),
        block3=_conv_block(b, c, 2),
        block4=_conv_block(c, d, last_stride),
    )
    net = nn.Sequential(blocks)
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return net


def _osnet(name: str) -> Callable[[int], nn.Module]:
    def build(last_stride: int) -> nn.Module:
        if last_stride != 1:
            raise ConfigError(f"{name} has no strided last stage (its stride is 16 by design): last_stride=1")
        return osnet(name)

    return build


# The module of each backbone of BACKBONES (models.config holds what a config needs to know of them).
BUILDERS: dict[str, Callable[[int], nn.Module]] = {
    "resnet50": _resnet("resnet50"),
    "resnet18": _resnet("resnet18"),
    "tiny": _tiny,
    **{name: _osnet(name) for name in OSNET_WIDTHS},
}


def build_backbone(
    name: str, weights: str | None = NO_WEIGHTS, last_stride: int = 1
) -> tuple[nn.Module, int]:
    """The backbone ``name`` with its ``weights`` (see the module docstring) and its channel count.
    ``weights=None``: random, silently (the caller loads a state dict next, e.g. a checkpoint)."""
    spec = BACKBONES.get(name)
    if spec is None:
        raise ConfigError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}")
    if last_stride not in (1, 2):
        raise ConfigError(f"last_stride must be 1 or 2, got {last_stride}")
    module = BUILDERS[name](last_stride)
    if weights is None:
        pass
    elif weights == NO_WEIGHTS:
        if spec.imagenet is not None:
            warnings.warn(
                f"backbone {name} starts from random weights (weights=none): re-ID training from scratch "
                f"is far worse than from ImageNet; give weights=imagenet or the path of torchvision's "
                f"ImageNet state dict file",
                UserWarning,
                stacklevel=2,
            )
    elif weights == IMAGENET:
        if spec.imagenet is None:
            raise ConfigError(f"backbone {name} has no ImageNet weights; use weights=none or a state dict")
        state = fetch_imagenet(spec.imagenet)
        load_matching_state(module, state, spec.imagenet, f"the {name} backbone", spec.ignored_prefixes)
    else:
        path = Path(str(weights))
        state = read_state_dict(path)
        load_matching_state(module, state, path, f"the {name} backbone", spec.ignored_prefixes)
    return module, spec.channels


def fetch_imagenet(weights_name: str) -> dict[str, torch.Tensor]:
    """torchvision's state dict ``weights_name`` (e.g. ``ResNet50_Weights.IMAGENET1K_V1``): from torch's hub
    cache, else downloaded. Fails with one :class:`ConfigError` saying which file to give as a path."""
    from torchvision.models import get_weight

    weights = get_weight(weights_name)
    try:
        # weights_only: a file already in the cache is loaded as it is (the hash is checked on download only)
        return weights.get_state_dict(progress=False, check_hash=True, weights_only=True)
    except pickle.UnpicklingError as error:  # a file in the cache that is not torchvision's
        cached = Path(torch.hub.get_dir()) / "checkpoints" / weights.url.rsplit("/", 1)[-1]
        problem = f"in torch's hub cache for weights=imagenet, but {unloadable(cached, error)}"
        raise InputError(cached, problem) from None
    except Exception as error:  # URLError, OSError, a hash mismatch, ...: all mean "give a path"
        filename = weights.url.rsplit("/", 1)[-1]
        raise ConfigError(
            f"weights=imagenet: cannot fetch torchvision's {weights_name} from {weights.url} "
            f"({type(error).__name__}: {error}). Without the network, fetch that file elsewhere and give "
            f"its path: weights=/path/to/{filename}"
        ) from None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A state dict file onto the CPU (see ``weights`` in the module docstring for the layouts read)."""
    if not path.is_file():
        raise InputError(path, "weights file not found (weights: none, imagenet, or a state dict file)")
    return state_dict_of(read_tensors_file(path), path)


def read_tensors_file(path: Path) -> Any:
    """What ``torch.save`` wrote to ``path``, read safely (``weights_only``: tensors, numbers, strings,
    lists, dicts) onto the CPU."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # unpickling, zip and I/O errors all mean: not a loadable state dict
        raise InputError(
            path, f"cannot load as a state dict (torch.load, weights_only): {unloadable(path, error)}"
        ) from None


def state_dict_of(content: Any, path: Path) -> dict[str, torch.Tensor]:
    """The state dict in a file's ``content``: the content itself or its ``state_dict`` entry (torchreid's
    checkpoints), without DataParallel's ``module.`` prefix."""
    if isinstance(content, Mapping) and isinstance(content.get("state_dict"), Mapping):
        content = content["state_dict"]
    if not isinstance(content, Mapping) or not all(isinstance(v, torch.Tensor) for v in content.values()):
        raise InputError(path, "not a state dict: expected a mapping of parameter names to tensors")
    return {key.removeprefix("module."): value for key, value in content.items()}


def require_finite(state: Mapping[str, Any], source: str | Path) -> None:
    """One :class:`InputError` naming ``source`` when a floating tensor of ``state`` holds NaN or infinity
    (a run that diverged): a network built from it gives NaN features."""
    broken = [
        name
        for name, value in state.items()
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(value.isfinite().all())
    ]
    if broken:
        raise InputError(
            source, f"weights hold NaN or infinite values ({len(broken)} tensors, e.g. {broken[0]})"
        )


def load_matching_state(
    module: nn.Module,
    state: Mapping[str, Any],
    source: str | Path,
    what: str,
    ignored_prefixes: tuple[str, ...] = (),
) -> None:
    """Load ``state`` into ``module`` (``what``, e.g. "the resnet50 backbone"), requiring the same keys and
    shapes (``ignored_prefixes`` dropped; a missing BatchNorm ``num_batches_tracked`` is allowed, as torch
    allows it). Else one :class:`InputError` naming ``source`` with the missing, unexpected and mis-shaped
    keys."""
    state = {k: v for k, v in state.items() if not (ignored_prefixes and k.startswith(ignored_prefixes))}
    require_finite(state, source)
    expected = module.state_dict()
    missing = sorted(k for k in expected.keys() - state.keys() if not k.endswith("num_batches_tracked"))
    unexpected = sorted(state.keys() - expected.keys())
    shapes = sorted(
        f"{k} {tuple(state[k].shape)} in the file, {tuple(expected[k].shape)} in the model"
        for k in expected.keys() & state.keys()
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    found = (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", shapes))
    problems = [
        f"{len(keys)} {what} ({', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''})"
        for what, keys in found
        if keys
    ]
    if problems:
        raise InputError(source, f"does not match {what}: {'; '.join(problems)}")
    module.load_state_dict(state, strict=True)
