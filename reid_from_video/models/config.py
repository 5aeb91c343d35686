"""The ``model`` section of a config (:class:`ModelConfig`) and what it needs to know of each backbone
(:data:`BACKBONES`): plain Python, no torch, so that every stage's config and the CLI load fast. The modules
themselves are built in :mod:`reid_from_video.models.backbones`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reid_from_video.core.config import config_from_dict, config_to_dict, option

NO_WEIGHTS = "none"
IMAGENET = "imagenet"
# The usual re-ID preprocessing (the same values as reid_from_video.embed.runtime's model card defaults).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
GEM_P = 3.0  # GeM's initial exponent (Radenovic et al.)
# OSNet's channel widths per variant: conv1, then the three stages (Zhou et al. 2019, table 1 and width x).
OSNET_WIDTHS: dict[str, tuple[int, int, int, int]] = {
    "osnet_x1_0": (64, 256, 384, 512),
    "osnet_x0_75": (48, 192, 288, 384),
    "osnet_x0_5": (32, 128, 192, 256),
    "osnet_x0_25": (16, 64, 96, 128),
}


@dataclass(frozen=True)
class BackboneSpec:
    """What a config needs to know of one backbone (its module: ``models.backbones.BUILDERS``)."""

    channels: int
    imagenet: str | None = None  # torchvision's weights name, for get_weight(); None: no pretrained weights
    ignored_prefixes: tuple[str, ...] = ()  # keys of a pretrained state dict the backbone has no use for
    pools: bool = False  # pools inside (a 1 x 1 output map): the network's pooling must be avg


BACKBONES: dict[str, BackboneSpec] = {
    "resnet50": BackboneSpec(2048, "ResNet50_Weights.IMAGENET1K_V1", ("fc.",)),
    "resnet18": BackboneSpec(512, "ResNet18_Weights.IMAGENET1K_V1", ("fc.",)),
    "tiny": BackboneSpec(192),
    **{name: BackboneSpec(512, ignored_prefixes=("classifier.",), pools=True) for name in OSNET_WIDTHS},
}


@dataclass
class ModelConfig:
    """The ``model`` section: architecture, initial weights and the input it expects."""

    backbone: str = option(
        "resnet50",
        "resnet50 (2048-d, the papers'), resnet18 (512-d), tiny (192-d, for CPU tests), osnet_x1_0, "
        "osnet_x0_75, osnet_x0_5, osnet_x0_25 (512-d re-ID networks; start them with init)",
    )
    weights: str = option(
        "imagenet",
        "initial backbone weights: imagenet (torchvision's; needs the network or torch's download cache), "
        "a state dict file (e.g. torchvision's resnet50-0676ba61.pth), or none (random; warns for a ResNet)",
    )
    init: str = option(
        "",
        "start from this file instead of weights: an OSNet .onnx (eval-mode export, batch norm folded), "
        "an rfv model.pt (the whole network but its classifier), or a backbone state dict (torchreid / "
        "boxmot OSNet .pth, torchvision ResNet); empty: weights",
    )
    last_stride: int = option(1, "stride of the backbone's last stage: 1 (re-ID's usual, twice the map) or 2")
    pooling: Literal["avg", "gem"] = option("avg", "global pooling: avg, or gem (generalised mean, learnt p)")
    gem_p: float = option(GEM_P, "gem: initial exponent p")
    neck: Literal["bnneck", "none"] = option(
        "bnneck", "bnneck (BatchNorm1d, bias frozen, before the classifier; bag of tricks) or none"
    )
    embedding_dim: int = option(0, "a linear reduction of the pooled feature to this size; 0: none")
    input_size: tuple[int, int] = option([256, 128], "input height, width in pixels")
    mean: tuple[float, float, float] = option(list(IMAGENET_MEAN), "per-channel mean of 0..1 pixels")
    std: tuple[float, float, float] = option(list(IMAGENET_STD), "per-channel standard deviation")
    colour: Literal["RGB", "BGR"] = option("RGB", "channel order of the input")

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; known: {', '.join(BACKBONES)}")
        if not str(self.weights):
            raise ValueError("weights must be none, imagenet or a state dict file")
        spec = BACKBONES[self.backbone]
        if self.weights == IMAGENET and spec.imagenet is None and not self.init:
            raise ValueError(
                f"backbone {self.backbone} has no ImageNet weights: give init=FILE, weights=FILE or "
                f"weights=none"
            )
        if self.last_stride not in (1, 2):
            raise ValueError(f"last_stride must be 1 or 2, got {self.last_stride}")
        if self.pooling not in ("avg", "gem"):
            raise ValueError(f"pooling must be avg or gem, got {self.pooling!r}")
        if spec.pools and self.pooling != "avg":
            raise ValueError(f"backbone {self.backbone} pools inside (a 1 x 1 map): pooling must be avg")
        if self.gem_p <= 0:
            raise ValueError(f"gem_p must be > 0, got {self.gem_p}")
        if self.neck not in ("bnneck", "none"):
            raise ValueError(f"neck must be bnneck or none, got {self.neck!r}")
        if self.embedding_dim < 0:
            raise ValueError(f"embedding_dim must be >= 0 (0: none), got {self.embedding_dim}")
        if len(self.input_size) != 2 or min(self.input_size) < 1:
            raise ValueError(f"input_size must be [height, width] > 0, got {list(self.input_size)}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ValueError(f"mean and std need 3 values each, std > 0: {list(self.mean)}, {list(self.std)}")
        if self.colour not in ("RGB", "BGR"):
            raise ValueError(f"colour must be RGB or BGR, got {self.colour!r}")
        self.input_size = (int(self.input_size[0]), int(self.input_size[1]))
        self.mean = tuple(float(v) for v in self.mean)  # type: ignore[assignment]
        self.std = tuple(float(v) for v in self.std)  # type: ignore[assignment]

    @property
    def pretrained(self) -> bool:
        """Whether the network starts from learnt weights (``init``, or ``weights`` other than none)."""
        return bool(self.init) or self.weights != NO_WEIGHTS

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (lists, strings, numbers) for a checkpoint or a model card."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "model config") -> ModelConfig:
        """The config from :meth:`to_dict`'s output; missing keys take the defaults, unknown keys and wrong
        types are a :class:`~reid_from_video.core.errors.ConfigError` naming ``source``."""
        return config_from_dict(cls, data, source)
