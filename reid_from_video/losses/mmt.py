"""MMT's soft (teacher-supervised) losses: soft cross-entropy and soft softmax-triplet.

Ge, Chen, Li, "Mutual Mean-Teaching: Pseudo Label Refinery for Unsupervised Domain Adaptation on Person
Re-identification", ICLR 2020, section 3.2, as used by TMC (eqs. (4) and (5)): the student is the network
being trained (``Net``), the teacher its temporal average (``Mean Net``, TMC eq. (1)) fed the same images.
The teacher's outputs are targets: both losses detach them, so no gradient ever reaches the teacher.

**Soft cross-entropy** (MMT's ``SoftEntropy``; TMC eq. (4)), student logits ``z_i``, teacher logits ``t_i``:

    L_sid = (1 / N) sum_i sum_k -softmax(t_i)_k log softmax(z_i)_k

**Soft triplet** (MMT's ``SoftTripletLoss`` with ``margin=None``; TMC eq. (5)). With the student's
features ``f``, the teacher's ``g`` and ``d_f(u, v) = ||f_u - f_v||_2`` (plain Euclidean), the hardest
positive ``p(a)`` and negative ``n(a)`` of every anchor are mined batch-hard on the *student's* distances
(as in :mod:`reid_from_video.losses.triplet`), and the softmax-triplet probability of a network is

    tau_a(f) = exp(d_f(a, n(a))) / (exp(d_f(a, p(a))) + exp(d_f(a, n(a))))

(MMT's T_i: the probability that the negative is the farther one). The teacher's ``tau_a(g)`` is computed on
the *same* ``(a, p(a), n(a))`` triplets with the teacher's distances ``d_g`` and detached; the loss is the
binary cross-entropy between them, averaged over the anchors:

    L_stri = (1 / |V|) sum_{a in V} -[tau_a(g) log tau_a(f) + (1 - tau_a(g)) log(1 - tau_a(f))]

In code, as in MMT: ``log_softmax`` of the student's ``(d_ap, d_an)`` against ``softmax`` of the teacher's.
``V``: the anchors with a positive and a negative (MMT's sampler always provides both; here the others are
left out, and the loss is 0 when none is left). ``normalize`` L2-normalises both feature sets first (MMT's
``normalize_feature``, off by default there and here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reid_from_video.losses.mining import hardest_pairs, masked_mean, maybe_normalize, pairwise_euclidean


def soft_cross_entropy(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """``L_sid``: ``-sum_k softmax(teacher)_k log_softmax(student)_k``, mean over the batch; the teacher is
    detached. Both (N, K)."""
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student and teacher logits differ in shape: {tuple(student_logits.shape)} vs "
            f"{tuple(teacher_logits.shape)}"
        )
    targets = F.softmax(teacher_logits.detach(), dim=1)
    return -(targets * F.log_softmax(student_logits, dim=1)).sum(1).mean()


class SoftCrossEntropyLoss(nn.Module):
    """MMT's soft classification loss ``L_sid`` (see the module docstring); ``forward(student, teacher)``."""

    def forward(self, student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the cross-entropy of the student's softmax against the teacher's."""
        return soft_cross_entropy(student_logits, teacher_logits)


def soft_triplet_loss(
    student_features: torch.Tensor,
    teacher_features: torch.Tensor,
    labels: torch.Tensor,
    normalize: bool = False,
) -> torch.Tensor:
    """``L_stri`` of the module docstring: triplets mined on the student, the teacher's softmax-triplet
    probability on the same triplets as the (detached) target.

    Args:
        student_features: (N, D) features of the network being trained.
        teacher_features: (N, D') features of the mean teacher for the same images (detached here).
        labels: (N,) hard pseudo-labels, used only to mine the triplets.
        normalize: L2-normalise both feature sets first.
    """
    if len(student_features) != len(labels) or len(teacher_features) != len(labels):
        raise ValueError(
            f"features must have one row per label ({len(labels)}): student {tuple(student_features.shape)}, "
            f"teacher {tuple(teacher_features.shape)}"
        )
    student = pairwise_euclidean(maybe_normalize(student_features, normalize))
    with torch.no_grad():
        teacher = pairwise_euclidean(maybe_normalize(teacher_features.detach(), normalize))
    positive, negative, valid = hardest_pairs(student, labels)
    pick = torch.stack((positive, negative), dim=1)  # (N, 2): p(a), n(a)
    log_tau = F.log_softmax(student.gather(1, pick), dim=1)  # log(1 - tau_a(f)), log tau_a(f)
    target = F.softmax(teacher.gather(1, pick), dim=1)  # 1 - tau_a(g), tau_a(g)
    return masked_mean(-(target * log_tau).sum(1), valid)


class SoftTripletLoss(nn.Module):
    """MMT's soft softmax-triplet loss ``L_stri`` (see the module docstring);
    ``forward(student_features, teacher_features, labels)``.

    Args:
        normalize: L2-normalise both feature sets first (default False, as MMT).
    """

    def __init__(self, normalize: bool = False) -> None:
        super().__init__()
        self.normalize = normalize

    def forward(
        self, student_features: torch.Tensor, teacher_features: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        """Mean over the anchors with a positive and a negative of BCE(tau(student), tau(teacher))."""
        return soft_triplet_loss(student_features, teacher_features, labels, self.normalize)

    def extra_repr(self) -> str:
        return f"normalize={self.normalize}"
