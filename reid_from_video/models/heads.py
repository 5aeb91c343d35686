"""Heads on the pooled feature: embedding reduction, BN-neck, identity classifiers.

The re-ID head of Luo et al., "Bag of Tricks and A Strong Baseline for Deep Person Re-identification",
CVPRW 2019 (section 3.5, BNNeck): the pooled feature ``f_t`` feeds the triplet loss; a BatchNorm1d, its
bias frozen at 0 ("the biases of classifier FC layer are removed"; the BN's shift is not learnt, as in the
authors' code ``bottleneck.bias.requires_grad_(False)``), gives ``f_i`` which feeds the identity
classifier (a bias-free linear layer) and is the inference feature.

Classifiers:

* :class:`Classifier`: one linear layer without bias, ``N x D -> N x K``, initialised ``N(0, 0.001)`` (the
  bag of tricks). :meth:`Classifier.reset_from_centroids` sets its rows to L2-normalised cluster centroids,
  as TMC / MMT do before every epoch after clustering (MMT's code:
  ``classifier.weight.data.copy_(F.normalize(cluster_centers, dim=1))``).
* :class:`CameraClassifiers`: TAUDL's per-camera branches (section 3.2, PCTD), one :class:`Classifier` per
  camera of ``M_t`` classes on the shared feature; the output is the list of each branch's logits on the
  whole batch, ``[N x M_0, N x M_1, ...]``, indexed by camera id as
  :func:`reid_from_video.losses.pctd_loss` takes it (so camera ids are ``0 .. T-1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

CLASSIFIER_INIT_STD = 0.001


class BNNeck(nn.BatchNorm1d):
    """BatchNorm1d whose bias (shift) is frozen at 0: weight 1, bias 0, ``bias.requires_grad = False``."""

    def __init__(self, features: int) -> None:
        super().__init__(features)
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)
        self.bias.requires_grad_(False)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bias frozen"


def embedding_layer(in_features: int, out_features: int) -> nn.Linear:
    """The optional reduction ``D_backbone -> D``, a linear layer (Kaiming-normal fan-out, bias 0)."""
    layer = nn.Linear(in_features, out_features)
    nn.init.kaiming_normal_(layer.weight, mode="fan_out")
    nn.init.zeros_(layer.bias)
    return layer


class Classifier(nn.Module):
    """A bias-free linear classifier ``N x D -> N x K`` (``weight`` is ``K x D``, as ``nn.Linear``'s)."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        if in_features < 1 or num_classes < 1:
            raise ValueError(f"a classifier needs >= 1 feature and class, got {in_features}, {num_classes}")
        self.weight = nn.Parameter(torch.empty(num_classes, in_features))
        nn.init.normal_(self.weight, std=CLASSIFIER_INIT_STD)

    @property
    def num_classes(self) -> int:
        return self.weight.shape[0]

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)

    @torch.no_grad()
    def reset_from_centroids(self, centroids: torch.Tensor) -> bool:
        """Set the rows to the L2-normalised ``centroids`` (``K x D``, one per class, e.g. the mean feature
        of each cluster), on this classifier's device and dtype.

        Returns True when ``K`` differs from the current number of classes: then ``weight`` is a new
        parameter, and an optimizer holding the old one must be rebuilt (or given the new one). With the
        same ``K`` the values are copied in place (the parameter, and an optimizer's hold on it, stay).
        """
        if centroids.ndim != 2 or centroids.shape[1] != self.in_features or len(centroids) == 0:
            raise ValueError(
                f"centroids must be K x {self.in_features} with K >= 1, got {tuple(centroids.shape)}"
            )
        rows = F.normalize(centroids.detach().to(self.weight.device, torch.float32), dim=1)
        rows = rows.to(self.weight.dtype)
        if rows.shape == self.weight.shape:
            self.weight.copy_(rows)
            return False
        self.weight = nn.Parameter(rows.clone(), requires_grad=self.weight.requires_grad)
        return True

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_classes={self.num_classes}, bias=False"


class CameraClassifiers(nn.Module):
    """TAUDL's per-camera branches: ``branches[t]`` classifies among camera ``t``'s ``sizes[t]`` tracklet
    labels. ``forward(x)`` returns every branch's logits on the whole batch, ``[N x sizes[0], ...]``."""

    def __init__(self, in_features: int, sizes: Sequence[int]) -> None:
        super().__init__()
        if len(sizes) == 0:
            raise ValueError("per-camera classifiers need at least one camera")
        self.branches = nn.ModuleList(Classifier(in_features, int(size)) for size in sizes)

    @property
    def sizes(self) -> list[int]:
        return [branch.num_classes for branch in self.branches]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [branch(x) for branch in self.branches]
