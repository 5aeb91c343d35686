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
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from reid_from_video.models.architecture import with_init_architecture
from reid_from_video.models.backbones import build_backbone
from reid_from_video.models.config import ModelConfig
from reid_from_video.models.heads import BNNeck, CameraClassifiers, Classifier, embedding_layer
from reid_from_video.models.init import load_init
from reid_from_video.models.pooling import build_pooling

NumClasses = int | Sequence[int] | None


class ReidOutput(NamedTuple):
    """What :class:`ReidNet` returns in training mode."""

    features: torch.Tensor  # N x D, before the neck: triplet losses, CCTA
    neck_features: torch.Tensor  # N x D, after the neck: the classifier's input
    logits: torch.Tensor | list[torch.Tensor] | None  # N x K, per-camera [N x M_t], or None


def folded_start(config: ModelConfig) -> bool:
    """Whether the network starts from an ONNX file, whose batch norms are folded into its convolutions."""
    return Path(config.init).suffix.lower() == ".onnx" if config.init else False


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
        if load_weights:  # the init file decides the architecture (the stage entry points announce it)
            config = with_init_architecture(config, announce=False)
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
        # A folded ONNX start has no batch statistics left (its norms are the identity plus a bias): one
        # training-mode forward would overwrite them with a batch's (held-out mAP 65.9 -> 7.2 after two
        # batches, no optimiser step, OSNet-x0.25). Its backbone's norms stay in eval mode while training.
        self.frozen_backbone_norms = folded_start(config)
        if load_weights and config.init:
            load_init(self, config.init)

    def train(self, mode: bool = True) -> ReidNet:
        """As ``nn.Module.train``, but the backbone's batch norms stay in eval mode (running statistics
        used, never updated) when the network starts from a folded ONNX file (:func:`folded_start`)."""
        super().train(mode)
        if mode and self.frozen_backbone_norms:
            for module in self.backbone.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

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
