"""Pairwise distances and batch-hard mining shared by the triplet losses.

Distances are computed from the Gram matrix, ``||a||^2 + ||b||^2 - 2 a.b`` (an N x N matrix, never the
N x N x D differences), which is what the MMT and open-reid code do. The squared distance is clipped at 0
(rounding); the plain distance is ``sqrt(max(d^2, 1e-12))``, so a zero distance has a finite value (1e-6)
and a zero gradient instead of the infinite gradient of ``sqrt`` at 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reid_from_video.core.distances import squared_euclidean

# Floor of the squared distance under the square root (the value MMT's euclidean_dist uses).
SQRT_FLOOR = 1e-12


def pairwise_squared_euclidean(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``d[i, j] = ||x_i - y_j||^2`` for rows of ``x`` (N, D), ``y`` (M, D; default ``x``), clipped at 0."""
    return squared_euclidean(x, x if y is None else y)


def pairwise_euclidean(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """``d[i, j] = ||x_i - y_j||`` (not squared), ``sqrt(max(||x_i - y_j||^2, 1e-12))``."""
    return pairwise_squared_euclidean(x, y).clamp(min=SQRT_FLOOR).sqrt()


def maybe_normalize(features: torch.Tensor, normalize: bool) -> torch.Tensor:
    """Rows scaled to unit L2 length when ``normalize`` (``F.normalize``; a zero row stays zero)."""
    return F.normalize(features, p=2.0, dim=1) if normalize else features


def hardest_pairs(
    distances: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch-hard mining (Hermans et al. 2017): ``(positive index, negative index, valid)`` per anchor.

    For anchor ``a`` the hardest positive is ``argmax_{p != a, y_p = y_a} d[a, p]`` and the hardest negative
    ``argmin_{n: y_n != y_a} d[a, n]``; the anchor itself is never its own positive. ``valid[a]`` is False
    when the anchor has no positive (its label occurs once in the batch) or no negative (every sample has its
    label); the indices of such an anchor are meaningless (0). Ties go to the lowest index. The selection
    uses detached distances: no gradient flows through the choice, only through the chosen distances.

    Args:
        distances: (N, N) distances between the samples of the batch.
        labels: (N,) integer labels.
    """
    n = len(labels)
    if distances.shape != (n, n):
        raise ValueError(f"distances must be ({n}, {n}) for {n} labels, not {tuple(distances.shape)}")
    d = distances.detach()
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(n, dtype=torch.bool, device=d.device)
    positive = same & ~eye
    negative = ~same
    positive_index = d.masked_fill(~positive, float("-inf")).argmax(1)
    negative_index = d.masked_fill(~negative, float("inf")).argmin(1)
    valid = positive.any(1) & negative.any(1)
    return positive_index, negative_index, valid


def masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` (N,) over ``valid`` (N,) bool, 0 when none is valid.

    Invalid entries get a zero gradient (they must be finite). No host-device synchronisation, and the
    result stays attached to the graph even when it is 0, so ``backward`` always works.
    """
    kept = torch.where(valid, values, torch.zeros_like(values))
    return kept.sum() / valid.sum().clamp(min=1).to(values.dtype)
