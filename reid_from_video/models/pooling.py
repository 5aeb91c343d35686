"""Global pooling of a feature map ``N x C x H x W`` to ``N x C``: average, or GeM.

GeM, generalised mean pooling (Radenovic, Tolias, Chum, "Fine-tuning CNN Image Retrieval with No Human
Annotation", TPAMI 2018, eq. 1): ``f_c = (mean_{h,w} max(x_chw, eps)^p)^(1/p)``, one learnable ``p``
(initial 3); ``p = 1`` is average pooling and ``p -> inf`` max pooling.

Both reduce with ``mean`` over the last two dimensions: no shape is baked into a traced graph, and a
channels-last input works as it is.
"""

from __future__ import annotations

import torch
from torch import nn

from reid_from_video.models.config import GEM_P

GEM_EPS = 1e-6


class AvgPool(nn.Module):
    """Global average pooling, ``N x C x H x W -> N x C``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(-2, -1))


class GeM(nn.Module):
    """Generalised mean pooling, ``N x C x H x W -> N x C`` (see the module docstring).

    Args:
        p: the initial exponent, > 0.
        eps: inputs are clamped to at least ``eps`` (the power of 0 or a negative number is not useful).
        learnable: ``p`` is a parameter trained with the network (default), else a fixed buffer.
    """

    def __init__(self, p: float = GEM_P, eps: float = GEM_EPS, learnable: bool = True) -> None:
        super().__init__()
        if p <= 0:
            raise ValueError(f"GeM p must be > 0, got {p}")
        value = torch.full((1,), float(p))
        if learnable:
            self.p = nn.Parameter(value)
        else:
            self.register_buffer("p", value)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp(min=self.eps).pow(self.p).mean(dim=(-2, -1)).pow(1.0 / self.p)

    def extra_repr(self) -> str:
        return f"p={float(self.p.detach()):.4g}, eps={self.eps}, learnable={isinstance(self.p, nn.Parameter)}"


POOLINGS = ("avg", "gem")


def build_pooling(name: str, gem_p: float = GEM_P) -> nn.Module:
    """``avg`` or ``gem`` (learnable ``p``, initially ``gem_p``)."""
    if name == "avg":
        return AvgPool()
    if name == "gem":
        return GeM(gem_p)
    raise ValueError(f"unknown pooling {name!r}; known: {', '.join(POOLINGS)}")
