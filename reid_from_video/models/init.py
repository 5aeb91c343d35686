"""``model.init``: the weights a network starts training from, read from one of three kinds of file.

* An ONNX OSNet (``.onnx``, e.g. boxmot's ``osnet_x0_25_msmt17.onnx``, batch norm folded into its
  convolutions): its initializers (:mod:`reid_from_video.models.osnet_onnx`), into an OSNet backbone.
* ``rfv train``'s ``model.pt`` (``{"model": config, "state_dict", ...}``): the whole network (backbone,
  pooling, embedding, neck) without its classifier, which the new run's labels replace. Its backbone must
  be ``model.backbone``.
* A state dict file (``.pth`` / ``.pt``, torchreid's or boxmot's OSNet, torchvision's ResNet): the backbone,
  as ``model.weights`` reads it (a ``state_dict`` wrapper and ``module.`` prefixes allowed, classifier keys
  dropped).

What the file does not hold (the neck, a new classifier) starts as it would without it. Every file is read
safely (``torch.load(weights_only=True)``). Any problem is one :class:`InputError` naming the file and the
key ``model.init``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reid_from_video.core.errors import InputError
from reid_from_video.models.backbones import load_matching_state, read_tensors_file, state_dict_of
from reid_from_video.models.config import BACKBONES
from reid_from_video.models.osnet import OSNet
from reid_from_video.models.osnet_onnx import onnx_osnet_state

if TYPE_CHECKING:
    from reid_from_video.models.reid_net import ReidNet

INIT_KEY = "model.init"


def load_init(net: ReidNet, path: str | Path) -> None:
    """Load the file ``path`` into ``net`` (see the module docstring)."""
    path = Path(path)
    backbone = net.config.backbone
    try:
        if not path.is_file():
            raise InputError(path, "file not found (an OSNet .onnx, an rfv model.pt or a state dict file)")
        if path.suffix.lower() == ".onnx":
            if not isinstance(net.backbone, OSNet):
                raise InputError(path, f"ONNX loads into an OSNet backbone, not model.backbone={backbone}")
            state = onnx_osnet_state(path, net.backbone)
            load_matching_state(net.backbone, state, path, f"the {backbone} backbone (model.backbone)")
            return
        content = read_tensors_file(path)
        if _is_rfv_model(content):
            _load_rfv_model(net, content, path)
            return
        spec = BACKBONES[backbone]
        state = state_dict_of(content, path)
        what = f"the {backbone} backbone (model.backbone)"
        load_matching_state(net.backbone, state, path, what, spec.ignored_prefixes)
    except InputError as error:
        raise InputError(error.path, f"{INIT_KEY}: {error.problem}") from None


def _is_rfv_model(content: Any) -> bool:
    if not isinstance(content, Mapping):
        return False
    return isinstance(content.get("model"), Mapping) and "state_dict" in content


def _load_rfv_model(net: ReidNet, content: Mapping[str, Any], path: Path) -> None:
    trained = content["model"].get("backbone")
    if trained != net.config.backbone:
        raise InputError(path, f"a model of backbone {trained}, but model.backbone={net.config.backbone}")
    state = state_dict_of(content["state_dict"], path)
    state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    own_classifier = {k: v for k, v in net.state_dict().items() if k.startswith("classifier.")}
    load_matching_state(net, {**state, **own_classifier}, path, "this network (model.*)")
