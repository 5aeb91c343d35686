"""The re-ID network: backbone -> global pooling -> (embedding) -> neck -> (classifier).

``build_model(config, num_classes)`` with a :class:`ModelConfig`. In training mode ``forward`` returns a
:class:`ReidOutput`: ``features`` (pooled, after the optional embedding layer, before the neck: for triplet
losses and TAUDL's CCTA), ``neck_features`` (after the BN-neck: the classifier's input) and ``logits``
(``N x K`` for one classifier, a list ``[N x M_t]`` for TAUDL's per-camera branches, None without a
classifier). In eval mode it returns only the inference feature, ``neck_features`` L2-normalised: one
``N x D`` tensor, which is what export traces (``torch.jit.trace(model.eval(), example)``).

The model takes images already preprocessed as the config says (``input_size``, ``colour``, ``mean``,
``std``); those fields travel with the config into a checkpoint and the exported model's card.

A checkpoint holds ``config.to_dict()`` (plain, loadable with ``torch.load(weights_only=True)``) beside the
state dict; :meth:`ModelConfig.from_dict` and :func:`model_from_state` rebuild the model from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from reid_from_video.core.config import config_from_dict, config_to_dict, option
from reid_from_video.models.backbones import BACKBONES, IMAGENET, build_backbone
from reid_from_video.models.heads import BNNeck, CameraClassifiers, Classifier, embedding_layer
from reid_from_video.models.init import load_init
from reid_from_video.models.pooling import GEM_P, build_pooling

# The usual re-ID preprocessing (the same values as reid_from_video.embed.runtime's model card defaults).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

NumClasses = int | Sequence[int] | None


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

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (lists, strings, numbers) for a checkpoint or a model card."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "model config") -> ModelConfig:
        """The config from :meth:`to_dict`'s output; missing keys take the defaults, unknown keys and wrong
        types are a :class:`~reid_from_video.core.errors.ConfigError` naming ``source``."""
        return config_from_dict(cls, data, source)


class ReidOutput(NamedTuple):
    """What :class:`ReidNet` returns in training mode."""

    features: torch.Tensor  # N x D, before the neck: triplet losses, CCTA
    neck_features: torch.Tensor  # N x D, after the neck: the classifier's input
    logits: torch.Tensor | list[torch.Tensor] | None  # N x K, per-camera [N x M_t], or None


class ReidNet(nn.Module):
    """Backbone, pooling, optional embedding, neck and optional classifier(s); see the module docstring.

    Args:
        config: the architecture.
        num_classes: an int for one identity classifier, a list of per-camera sizes for TAUDL's branches
            (camera ids ``0 .. T-1``), None for no classifier (inference, or set later by
            :meth:`reset_classifier`).
        load_weights: load ``config.init`` (see :mod:`reid_from_video.models.init`) into the network, or
            without it ``config.weights`` into the backbone; False when a state dict (a checkpoint) is
            loaded next (nothing is read or fetched, nothing warns).
    """

    def __init__(
        self, config: ModelConfig, num_classes: NumClasses = None, load_weights: bool = True
    ) -> None:
        super().__init__()
        self.config = config
        weights = config.weights if load_weights and not config.init else None
        self.backbone, self.channels = build_backbone(config.backbone, weights, config.last_stride)
        self.pool = build_pooling(config.pooling, config.gem_p)
        self.feature_dim = config.embedding_dim or self.channels
        self.embedding: nn.Module = (
            embedding_layer(self.channels, config.embedding_dim) if config.embedding_dim else nn.Identity()
        )
        self.neck: nn.Module = BNNeck(self.feature_dim) if config.neck == "bnneck" else nn.Identity()
        self.classifier: nn.Module | None = None
        if num_classes is not None:
            self.classifier = _classifier(self.feature_dim, num_classes)
        if load_weights and config.init:
            load_init(self, config.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor | ReidOutput:
        """``x`` N x 3 x H x W (preprocessed). Training: :class:`ReidOutput`; eval: N x D unit rows."""
        features = self.embedding(self.pool(self.backbone(x)))
        neck_features = self.neck(features)
        if not self.training:
            return F.normalize(neck_features, dim=1)
        logits = None if self.classifier is None else self.classifier(neck_features)
        return ReidOutput(features, neck_features, logits)

    @property
    def num_classes(self) -> int | list[int] | None:
        """The classifier's size: an int, the per-camera sizes, or None."""
        if isinstance(self.classifier, Classifier):
            return self.classifier.num_classes
        if isinstance(self.classifier, CameraClassifiers):
            return self.classifier.sizes
        return None

    def reset_classifier(self, centroids: torch.Tensor) -> bool:
        """TMC / MMT: one classifier whose rows are the L2-normalised ``centroids`` (K x D), created when
        the model has none. Returns True when the classifier's parameter is new (created, or K changed):
        rebuild the optimizer then. See :meth:`Classifier.reset_from_centroids`."""
        if isinstance(self.classifier, CameraClassifiers):
            raise ValueError("reset_classifier sets one classifier; this model has per-camera branches")
        if self.classifier is None:
            reference = next(self.parameters())
            classifier = Classifier(self.feature_dim, max(1, len(centroids)))
            classifier = classifier.to(reference.device, reference.dtype)
            classifier.reset_from_centroids(centroids)
            self.classifier = classifier
            return True
        assert isinstance(self.classifier, Classifier)
        return self.classifier.reset_from_centroids(centroids)


def _classifier(feature_dim: int, num_classes: int | Sequence[int]) -> nn.Module:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, Sequence)):
        raise ValueError(f"num_classes must be an int, a list of per-camera sizes or None: {num_classes!r}")
    if isinstance(num_classes, int):
        return Classifier(feature_dim, num_classes)
    return CameraClassifiers(feature_dim, list(num_classes))


def build_model(config: ModelConfig, num_classes: NumClasses = None, load_weights: bool = True) -> ReidNet:
    """A :class:`ReidNet` (see its arguments)."""
    return ReidNet(config, num_classes, load_weights)


def classifier_sizes(state_dict: Mapping[str, torch.Tensor]) -> int | list[int] | None:
    """The ``num_classes`` a :class:`ReidNet` needs to load ``state_dict``: its classifier's size, the
    per-camera sizes, or None without a classifier."""
    if "classifier.weight" in state_dict:
        return int(state_dict["classifier.weight"].shape[0])
    prefix, suffix = "classifier.branches.", ".weight"
    branches = {
        int(key[len(prefix) : -len(suffix)]): int(value.shape[0])
        for key, value in state_dict.items()
        if key.startswith(prefix) and key.endswith(suffix)
    }
    return [branches[i] for i in sorted(branches)] or None


def model_from_state(
    config: ModelConfig | Mapping[str, Any], state_dict: Mapping[str, torch.Tensor], classifier: bool = True
) -> ReidNet:
    """A model rebuilt from a checkpoint's config (a :class:`ModelConfig` or its dict) and state dict;
    ``classifier=False`` drops the classifier (inference, export). Nothing is fetched."""
    if not isinstance(config, ModelConfig):
        config = ModelConfig.from_dict(config)
    if not classifier:
        state_dict = {k: v for k, v in state_dict.items() if not k.startswith("classifier.")}
    model = ReidNet(config, classifier_sizes(state_dict), load_weights=False)
    model.load_state_dict(state_dict)
    return model
