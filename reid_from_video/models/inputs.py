"""What a network starts from, checked before a stage runs (see :mod:`reid_from_video.core.inputs`):
``model.init`` (a file; an ONNX one needs an OSNet ``model.backbone``), else ``model.weights`` (a state dict
file, or ``imagenet``: torchvision's file in torch's hub cache, else its download server must answer;
nothing is downloaded here)."""

from __future__ import annotations

from pathlib import Path

from reid_from_video.core.errors import MissingInput
from reid_from_video.core.inputs import missing_file, reachable
from reid_from_video.models.architecture import init_architecture
from reid_from_video.models.config import BACKBONES, IMAGENET, NO_WEIGHTS, OSNET_WIDTHS, ModelConfig


def imagenet_source(weights_name: str) -> tuple[Path, str]:
    """torchvision's ``weights_name`` (``ResNet50_Weights.IMAGENET1K_V1``): the file in torch's hub cache
    where its download lands, and its URL."""
    import torch
    from torchvision.models import get_weight

    url = get_weight(weights_name).url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1], url


def model_inputs(config: ModelConfig, prefix: str = "") -> list[MissingInput]:
    """The network's missing inputs, under the keys ``{prefix}model.*``."""
    init, weights = f"{prefix}model.init", f"{prefix}model.weights"
    if config.init:
        missing = missing_file(
            init,
            config.init,
            f"Give an OSNet .onnx, an rfv train model.pt or a backbone state dict file: {init}=FILE",
        )
        if (
            not missing
            and Path(config.init).suffix.lower() == ".onnx"
            and init_architecture(config.init) not in OSNET_WIDTHS
        ):
            problem = "not an ONNX OSNet (no 7 x 7 first convolution of an OSNet width, or no depthwise ones)"
            remedy = f"Give an OSNet exported to ONNX ({', '.join(OSNET_WIDTHS)}), or a state dict file"
            missing = [MissingInput(init, config.init, problem, remedy)]
        return missing
    if config.weights == NO_WEIGHTS:
        return []
    if config.weights != IMAGENET:
        return missing_file(
            weights, config.weights, f"Give a state dict file ({weights}=FILE), imagenet, or none"
        )
    imagenet = BACKBONES[config.backbone].imagenet
    if imagenet is None:  # the config refuses this already; nothing to fetch
        return []
    cached, url = imagenet_source(imagenet)
    if cached.is_file() or reachable(url):
        return []
    problem = (
        f"torchvision's {imagenet} is not in torch's cache ({cached.parent}) and {url} cannot be reached "
        f"(offline?)"
    )
    remedy = (
        f"Fetch that file where a network exists and give {weights}=PATH/{cached.name} (or put it in that "
        f"folder), or start from a pretrained re-ID model: {init}=PATH/osnet_x0_25_msmt17.onnx"
    )
    return [MissingInput(weights, config.weights, problem, remedy)]
