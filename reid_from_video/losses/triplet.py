"""Batch-hard triplet loss (Hermans, Beyer, Leibe, "In Defense of the Triplet Loss for Person
Re-Identification", arXiv:1703.07737, 2017, section 2 "Batch Hard"; TMC eq. (3)).

For every anchor ``a`` of the batch, with ``f`` the features and ``d(u, v) = ||f_u - f_v||_2`` the plain
(not squared) Euclidean distance:

    p(a) = argmax_{p != a, y_p = y_a} d(a, p)      (hardest positive)
    n(a) = argmin_{n: y_n != y_a} d(a, n)          (hardest negative)
    L_tri = (1 / |V|) sum_{a in V} max(0, d(a, p(a)) + m - d(a, n(a)))

``V`` is the set of anchors that have both a positive (another sample with their label) and a negative;
the others are left out, and the loss is 0 when ``V`` is empty. Anchors whose hinge is 0 still count in
``|V|`` (the mean of TMC eq. (3)). TMC uses ``m = 0.5``. Hermans et al. use the plain Euclidean distance
because the squared one made training less stable; so does this loss.

``normalize=True`` scales the features to unit length first (then ``d`` is in ``[0, 2]`` and the margin
means something else); the default ``False`` uses the features as given, as TMC's eq. (3) does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid_from_video.losses.mining import hardest_pairs, masked_mean, maybe_normalize, pairwise_euclidean
from reid_from_video.losses.settings import TMC_MARGIN


def batch_hard_triplet_loss(
    features: torch.Tensor, labels: torch.Tensor, margin: float = TMC_MARGIN, normalize: bool = False
) -> torch.Tensor:
    """``L_tri`` of the module docstring.

    Args:
        features: (N, D) embeddings.
        labels: (N,) identity (pseudo-)labels.
        margin: ``m``, >= 0.
        normalize: L2-normalise the rows of ``features`` before measuring distances.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, not {margin}")
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(f"features must be (N, D) for N={len(labels)} labels, not {tuple(features.shape)}")
    distances = pairwise_euclidean(maybe_normalize(features, normalize))
    positive, negative, valid = hardest_pairs(distances, labels)
    d_ap = distances.gather(1, positive[:, None]).squeeze(1)
    d_an = distances.gather(1, negative[:, None]).squeeze(1)
    return masked_mean(F.relu(d_ap - d_an + margin), valid)


class BatchHardTripletLoss(nn.Module):
    """Batch-hard triplet loss with a hinge (see the module docstring).

    Args:
        margin: ``m``; TMC's 0.5 by default.
        normalize: L2-normalise the features first (default False: the features as given).
    """

    def __init__(self, margin: float = TMC_MARGIN, normalize: bool = False) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"margin must be >= 0, not {margin}")
        self.margin = margin
        self.normalize = normalize

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean hinge over the anchors with a positive and a negative; ``features`` (N, D), labels (N,)."""
        return batch_hard_triplet_loss(features, labels, self.margin, self.normalize)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, normalize={self.normalize}"
