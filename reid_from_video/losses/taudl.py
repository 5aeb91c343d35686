"""TAUDL's losses: Per-Camera Tracklet Discrimination (PCTD) and Cross-Camera Tracklet Association (CCTA).

Li, Zhu, Gong, "Unsupervised Person Re-identification by Deep Learning Tracklet Association", ECCV 2018,
section 3.2, eqs. (1)-(4). Training data are SSTT tracklets (section 3.1, :mod:`reid_from_video.labels.sstt`)
labelled independently per camera: camera ``t`` of ``T`` has ``M_t`` tracklet labels ``y in {1..M_t}``.

**PCTD**, eqs. (1)-(2). One classification branch per camera on a shared feature ``x`` ("every task shares
the same feature representation whilst enjoys an individual classification branch"); a sample of camera
``t`` is classified by branch ``t`` only, against its per-camera tracklet label:

    L_ce(I, y) = -log( exp(W_y^T x) / sum_{k=1..M_t} exp(W_k^T x) )                      (1)
    L_pctd = (1 / N_bs) sum_{t=1..T} L_ce^t                                              (2)

"where L_ce^t denotes the CE loss summation of training samples from the t-th camera among a total of T and
N_bs the batch size": the mean over the batch of every sample's cross-entropy on its own camera's branch.

**CCTA**, eq. (3). "We represent a tracklet S by the average of its in-batch frames' feature vectors": a
tracklet of the batch is a (camera, per-camera label) pair and ``s_i^t`` the mean feature of its samples in
the batch. "For each tracklet S_i^t, we first retrieve K cross-view nearest tracklets N_i^t in the feature
space, with the remaining considered as dissimilar ones", and

    L_ccta = -log( sum_{z_k in N_i^t} exp(-||s_i^t - z_k||^2 / (2 sigma^2))
                   / sum_{t'=1..T} sum_{j=1..n_t'} exp(-||s_i^t - s_j^t'||^2 / (2 sigma^2)) )        (3)

with ``n_t'`` the number of in-batch tracklets of camera ``t'``. Reading, as implemented:

* ``N_i^t``: the ``K`` nearest tracklets (squared Euclidean distance between tracklet means) among *all*
  in-batch tracklets of the *other* cameras together (not K per camera); same-camera tracklets are never
  neighbours, however near. Nearest is chosen on detached distances (ties to the lower tracklet index), the
  gradient flows through the kernel values. Fewer than K cross-camera tracklets: all of them.
* ``K = T / 2`` with ``T`` the number of cameras ("K = T/2 (T is the number of cameras)", section 4,
  implementation details); here ``max(1, T // 2)``, ``T`` = ``num_cameras`` when given, else the number of
  cameras present in the batch (TAUDL's batches hold all cameras). ``k`` overrides it.
* The denominator runs over every in-batch tracklet of every camera, the tracklet's own camera included (the
  "dissimilar ones" pushed away). Read literally the double sum also holds ``j = i, t' = t``, the tracklet
  itself, a constant ``exp(0) = 1``: ``include_self=True`` (default) keeps that term, ``False`` drops it
  (the NCA-style reading; then only relative distances matter).
* ``sigma = 2``, from section 4. Features are used as given (no normalisation: the paper mentions none).
* The loss of the batch is the mean over its tracklets; tracklets with no cross-camera tracklet in the batch
  are left out (0 when none is left).

**Joint loss**, eq. (4): ``L_taudl = (1 - lambda) L_pctd + lambda L_ccta``, ``lambda = 0.7`` (section 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from reid_from_video.losses.mining import masked_mean, pairwise_squared_euclidean
from reid_from_video.losses.settings import TAUDL_LAMBDA, TAUDL_SIGMA

CameraLogits = Sequence[torch.Tensor] | Mapping[int, torch.Tensor]


def pctd_loss(
    logits: CameraLogits, labels: torch.Tensor, cameras: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """``L_pctd``, eq. (2): the mean over the batch of each sample's cross-entropy, eq. (1), computed on the
    logits of its own camera's branch against its per-camera tracklet label.

    Args:
        logits: the branches' logits, by camera id: a sequence (camera ``c`` is ``logits[c]``) or a mapping
            ``{camera id: logits}``. Each is either ``(N, M_c)`` (the branch applied to the whole batch, as
            a trainer with one ``nn.Linear`` per camera does most simply; only the rows of camera ``c`` are
            used) or ``(n_c, M_c)`` (the branch applied to the ``n_c`` samples of camera ``c``, in batch
            order).
        labels: (N,) per-camera class indices, ``0 <= labels[i] < M_{cameras[i]}``.
        cameras: (N,) camera id of each sample; every id must have a branch.
        label_smoothing: epsilon of :mod:`reid_from_video.losses.identity` within each branch (0 in TAUDL).
    """
    n = len(labels)
    if n == 0 or len(cameras) != n:
        raise ValueError(f"need a non-empty batch with one camera per label, got {n} labels, {len(cameras)}")
    branches = logits.items() if isinstance(logits, Mapping) else enumerate(logits)
    covered = torch.zeros(n, dtype=torch.bool, device=labels.device)
    total: torch.Tensor | None = None
    for camera, branch in branches:
        rows = cameras == camera
        if branch.ndim != 2:
            raise ValueError(f"logits of camera {camera} must be 2-d, not {tuple(branch.shape)}")
        if branch.shape[0] == n:
            branch = branch[rows]
        elif branch.shape[0] != int(rows.sum()):
            raise ValueError(
                f"logits of camera {camera} have {branch.shape[0]} rows: neither the batch ({n}) nor its "
                f"{int(rows.sum())} samples of that camera"
            )
        covered |= rows
        summed = F.cross_entropy(branch, labels[rows], reduction="sum", label_smoothing=label_smoothing)
        total = summed if total is None else total + summed
    missing = cameras[~covered]
    if total is None or len(missing):
        raise ValueError(f"no classifier branch for camera(s) {sorted(set(missing.tolist()))}")
    return total / n


class PCTDLoss(nn.Module):
    """Per-Camera Tracklet Discrimination, TAUDL eq. (2) (see :func:`pctd_loss`);
    ``forward(logits, labels, cameras)``."""

    def __init__(self, label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits: CameraLogits, labels: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        """Mean over the batch of the own-camera-branch cross-entropy."""
        return pctd_loss(logits, labels, cameras, self.label_smoothing)

    def extra_repr(self) -> str:
        return f"label_smoothing={self.label_smoothing}"


def tracklet_means(
    features: torch.Tensor, cameras: torch.Tensor, tracklets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(means, tracklet cameras, inverse)``: one row per in-batch tracklet, a tracklet being a distinct
    ``(camera, tracklet label)`` pair (so label 0 of camera 1 and label 0 of camera 2 are two tracklets),
    sorted by camera then label; ``means`` (S, D) the mean of its samples' features (differentiable),
    ``inverse`` (N,) the tracklet of each sample."""
    if features.ndim != 2 or len(features) != len(cameras) or len(features) != len(tracklets):
        raise ValueError(
            f"features (N, D), cameras (N,), tracklets (N,) disagree: {tuple(features.shape)}, "
            f"{tuple(cameras.shape)}, {tuple(tracklets.shape)}"
        )
    keys = torch.stack((cameras.long(), tracklets.long()), dim=1)
    unique, inverse, counts = torch.unique(keys, dim=0, return_inverse=True, return_counts=True)
    sums = features.new_zeros(len(unique), features.shape[1]).index_add(0, inverse, features)
    return sums / counts[:, None].to(features.dtype), unique[:, 0], inverse


def default_k(tracklet_cameras: torch.Tensor, num_cameras: int | None = None) -> int:
    """TAUDL's ``K = T / 2``: ``max(1, T // 2)``, ``T`` = ``num_cameras`` or the cameras in the batch."""
    cameras = num_cameras if num_cameras is not None else len(torch.unique(tracklet_cameras))
    return max(1, cameras // 2)


def cross_camera_neighbours(
    squared_distances: torch.Tensor, tracklet_cameras: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(neighbours, valid)``: ``neighbours[i, j]`` is True when tracklet ``j`` is one of the ``k`` nearest
    tracklets of ``i`` among those of other cameras (all of them when fewer; ties to the lower index; on
    detached distances); ``valid[i]``: ``i`` has at least one tracklet of another camera in the batch."""
    if k < 1:
        raise ValueError(f"k must be >= 1, not {k}")
    s = len(tracklet_cameras)
    other = tracklet_cameras[:, None] != tracklet_cameras[None, :]
    d = squared_distances.detach().masked_fill(~other, float("inf"))
    k = min(k, s)
    order = torch.argsort(d, dim=1, stable=True)[:, :k]
    ranks = torch.arange(k, device=d.device)[None, :]
    within = (ranks < other.sum(1, keepdim=True)).expand(s, k)
    neighbours = torch.zeros(s, s, dtype=torch.bool, device=d.device).scatter(1, order, within)
    return neighbours, other.any(1)


def ccta_loss(
    features: torch.Tensor,
    cameras: torch.Tensor,
    tracklets: torch.Tensor,
    sigma: float = TAUDL_SIGMA,
    k: int | None = None,
    num_cameras: int | None = None,
    include_self: bool = True,
) -> torch.Tensor:
    """``L_ccta``, eq. (3), averaged over the batch's tracklets (see the module docstring for the reading).

    Args:
        features: (N, D) shared features of the batch's samples (frames).
        cameras: (N,) camera id of each sample.
        tracklets: (N,) tracklet label of each sample within its camera (e.g. PCTD's per-camera labels).
        sigma: the Gaussian kernel's scale, 2 in TAUDL.
        k: the number of cross-camera neighbours; default ``max(1, T // 2)``.
        num_cameras: ``T`` for the default ``k``; default the number of cameras in the batch.
        include_self: keep the tracklet's own ``exp(0) = 1`` in the denominator (the literal eq. (3)).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, not {sigma}")
    means, tracklet_cameras, _ = tracklet_means(features, cameras, tracklets)
    s = len(means)
    if s < 2:
        return (features * 0.0).sum()
    k = default_k(tracklet_cameras, num_cameras) if k is None else k
    squared = pairwise_squared_euclidean(means)
    neighbours, valid = cross_camera_neighbours(squared, tracklet_cameras, k)
    kernel_logits = -squared / (2.0 * sigma**2)
    eye = torch.eye(s, dtype=torch.bool, device=means.device)
    # Denominator: every tracklet; the tracklet itself is exactly exp(0) = 1 or nothing.
    denominator = kernel_logits.masked_fill(eye, 0.0 if include_self else float("-inf"))
    # Numerator: the K neighbours. A tracklet without any (not valid, left out of the mean) keeps its whole
    # finite row, so that no logsumexp over -inf only produces a NaN gradient.
    numerator = torch.where(neighbours | ~valid[:, None], kernel_logits, float("-inf"))
    per_tracklet = torch.logsumexp(denominator, 1) - torch.logsumexp(numerator, 1)
    return masked_mean(per_tracklet, valid)


class CCTALoss(nn.Module):
    """Cross-Camera Tracklet Association, TAUDL eq. (3) (see :func:`ccta_loss`);
    ``forward(features, cameras, tracklets)``."""

    def __init__(
        self,
        sigma: float = TAUDL_SIGMA,
        k: int | None = None,
        num_cameras: int | None = None,
        include_self: bool = True,
    ) -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0, not {sigma}")
        if k is not None and k < 1:
            raise ValueError(f"k must be >= 1, not {k}")
        self.sigma = sigma
        self.k = k
        self.num_cameras = num_cameras
        self.include_self = include_self

    def forward(self, features: torch.Tensor, cameras: torch.Tensor, tracklets: torch.Tensor) -> torch.Tensor:
        """Mean over the batch's tracklets (with a cross-camera tracklet) of eq. (3)."""
        return ccta_loss(
            features, cameras, tracklets, self.sigma, self.k, self.num_cameras, self.include_self
        )

    def extra_repr(self) -> str:
        return (
            f"sigma={self.sigma}, k={self.k}, num_cameras={self.num_cameras}, "
            f"include_self={self.include_self}"
        )


class TAUDLLosses(NamedTuple):
    """The joint loss of eq. (4) and its two terms (for logging)."""

    total: torch.Tensor
    pctd: torch.Tensor
    ccta: torch.Tensor


class TAUDLLoss(nn.Module):
    """TAUDL's objective, eq. (4): ``(1 - lambda) L_pctd + lambda L_ccta``.

    ``forward(features, logits, labels, cameras)``: ``features`` (N, D) the shared features, ``logits`` the
    per-camera branches' outputs on them (see :func:`pctd_loss`), ``labels`` (N,) per-camera tracklet labels,
    ``cameras`` (N,). CCTA's tracklets are the ``(camera, label)`` pairs. Returns :class:`TAUDLLosses`.

    Args:
        weight: ``lambda``, 0.7 in TAUDL.
        sigma, k, num_cameras, include_self: of :class:`CCTALoss`.
        label_smoothing: of :class:`PCTDLoss` (0 in TAUDL).
    """

    def __init__(
        self,
        weight: float = TAUDL_LAMBDA,
        sigma: float = TAUDL_SIGMA,
        k: int | None = None,
        num_cameras: int | None = None,
        include_self: bool = True,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight (lambda) must be in [0, 1], not {weight}")
        self.weight = weight
        self.pctd = PCTDLoss(label_smoothing)
        self.ccta = CCTALoss(sigma, k, num_cameras, include_self)

    def forward(
        self, features: torch.Tensor, logits: CameraLogits, labels: torch.Tensor, cameras: torch.Tensor
    ) -> TAUDLLosses:
        """``TAUDLLosses(total, pctd, ccta)`` of the batch."""
        pctd = self.pctd(logits, labels, cameras)
        ccta = self.ccta(features, cameras, labels)
        return TAUDLLosses((1.0 - self.weight) * pctd + self.weight * ccta, pctd, ccta)

    def extra_repr(self) -> str:
        return f"weight={self.weight}"
