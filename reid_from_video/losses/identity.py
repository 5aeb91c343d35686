"""Identity classification loss: softmax cross-entropy with optional label smoothing.

With ``K`` classes, logits ``z_i`` and label ``y_i`` of sample ``i`` (of ``N``), ``p_i = softmax(z_i)`` and
the smoothed target ``q_ik = (1 - eps) [k = y_i] + eps / K``:

    L_id = (1 / N) sum_i sum_k -q_ik log p_ik
         = (1 / N) sum_i [ (1 - eps) (-log p_{i, y_i}) + (eps / K) sum_k (-log p_ik) ]

``eps = 0`` is the plain cross-entropy of TMC eq. (2) and TAUDL eq. (1). Label smoothing is Szegedy et al.,
"Rethinking the Inception Architecture for Computer Vision", CVPR 2016, section 7 (``q'(k) = (1 - eps)
delta_{k,y} + eps u(k)`` with ``u`` uniform); re-ID's "bag of tricks" (Luo et al., CVPRW 2019) and MMT's
code (``CrossEntropyLabelSmooth``) use ``eps = 0.1``. The default here is ``eps = 0`` (the papers' equations);
pass 0.1 for the trick. Same value as ``F.cross_entropy(logits, labels, label_smoothing=eps)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def cross_entropy_label_smooth(
    logits: torch.Tensor, labels: torch.Tensor, epsilon: float = 0.0, reduction: str = "mean"
) -> torch.Tensor:
    """``L_id`` of the module docstring: ``-sum_k q_ik log softmax(z_i)_k``, averaged over the batch.

    Args:
        logits: (N, K) classifier outputs.
        labels: (N,) class indices in ``[0, K)``.
        epsilon: label smoothing, in ``[0, 1]``; 0 is plain cross-entropy.
        reduction: ``"mean"`` (over the batch), ``"sum"`` or ``"none"`` (the (N,) per-sample losses).
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], not {epsilon}")
    return F.cross_entropy(logits, labels, label_smoothing=epsilon, reduction=reduction)


class CrossEntropyLabelSmooth(nn.Module):
    """Identity loss ``L_id`` (see the module docstring): cross-entropy against ``(1 - eps) one_hot + eps/K``.

    Args:
        epsilon: label smoothing; 0 (default) is the plain cross-entropy of TMC eq. (2), 0.1 the usual re-ID
            trick (:data:`~reid_from_video.losses.settings.REID_LABEL_SMOOTHING`).
    """

    def __init__(self, epsilon: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], not {epsilon}")
        self.epsilon = epsilon

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the smoothed cross-entropy; ``logits`` (N, K), ``labels`` (N,)."""
        return cross_entropy_label_smooth(logits, labels, self.epsilon)

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}"
