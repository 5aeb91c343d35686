"""Re-ID training losses (torch): identity cross-entropy, batch-hard triplet, MMT's soft losses (as used by
TMC) and TAUDL's PCTD + CCTA. Each module's docstring gives the exact formula and its source."""

from reid_from_video.losses.identity import (
    REID_LABEL_SMOOTHING,
    CrossEntropyLabelSmooth,
    cross_entropy_label_smooth,
)
from reid_from_video.losses.mining import hardest_pairs, pairwise_euclidean, pairwise_squared_euclidean
from reid_from_video.losses.mmt import (
    SoftCrossEntropyLoss,
    SoftTripletLoss,
    soft_cross_entropy,
    soft_triplet_loss,
)
from reid_from_video.losses.taudl import (
    TAUDL_LAMBDA,
    TAUDL_SIGMA,
    CCTALoss,
    PCTDLoss,
    TAUDLLoss,
    TAUDLLosses,
    ccta_loss,
    cross_camera_neighbours,
    pctd_loss,
    tracklet_means,
)
from reid_from_video.losses.triplet import TMC_MARGIN, BatchHardTripletLoss, batch_hard_triplet_loss

__all__ = [
    "REID_LABEL_SMOOTHING",
    "TAUDL_LAMBDA",
    "TAUDL_SIGMA",
    "TMC_MARGIN",
    "BatchHardTripletLoss",
    "CCTALoss",
    "CrossEntropyLabelSmooth",
    "PCTDLoss",
    "SoftCrossEntropyLoss",
    "SoftTripletLoss",
    "TAUDLLoss",
    "TAUDLLosses",
    "batch_hard_triplet_loss",
    "ccta_loss",
    "cross_camera_neighbours",
    "cross_entropy_label_smooth",
    "hardest_pairs",
    "pairwise_euclidean",
    "pairwise_squared_euclidean",
    "pctd_loss",
    "soft_cross_entropy",
    "soft_triplet_loss",
    "tracklet_means",
]
