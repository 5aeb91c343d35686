"""reid_from_video.losses against values computed by hand on tiny batches, plus their properties.

Tensors are float64 so that the hand-computed values hold to 1e-9; ``ln`` is the natural logarithm and
``sig(x) = 1 / (1 + exp(-x))``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from reid_from_video.losses.identity import CrossEntropyLabelSmooth, cross_entropy_label_smooth
from reid_from_video.losses.mining import hardest_pairs, pairwise_euclidean, pairwise_squared_euclidean
from reid_from_video.losses.mmt import (
    SoftCrossEntropyLoss,
    SoftTripletLoss,
    soft_cross_entropy,
    soft_triplet_loss,
)
from reid_from_video.losses.settings import TAUDL_LAMBDA
from reid_from_video.losses.taudl import (
    CCTALoss,
    PCTDLoss,
    TAUDLLoss,
    ccta_loss,
    cross_camera_neighbours,
    pctd_loss,
    tracklet_means,
)
from reid_from_video.losses.triplet import BatchHardTripletLoss, batch_hard_triplet_loss

D64 = torch.float64


def t(values, dtype=D64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype)


def labels(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def bce(q: float, p: float) -> float:
    """Binary cross-entropy of prediction p against target q."""
    return -(q * math.log(p) + (1.0 - q) * math.log(1.0 - p))


def close(actual: torch.Tensor, expected: float, tol: float = 1e-9) -> bool:
    return abs(float(actual.detach()) - expected) < tol


# --- identity cross-entropy -----------------------------------------------------------------------------


def test_identity_plain_cross_entropy_by_hand():
    # logits ln(1), ln(2), ln(5): softmax = (1/8, 2/8, 5/8); label 2: -ln(5/8) = ln(1.6) = 0.4700036292
    logits = torch.log(t([[1.0, 2.0, 5.0]]))
    loss = CrossEntropyLabelSmooth()(logits, labels([2]))
    assert close(loss, math.log(1.6))
    assert close(loss, 0.47000362924573563)


def test_identity_label_smoothing_by_hand():
    # eps = 0.1, K = 3: targets q = (0.1/3, 0.1/3, 0.9 + 0.1/3)
    # sample 1: logits ln(1, 2, 5), label 2:
    #   0.9 * ln(8/5) + (0.1/3) * (ln 8 + ln 4 + ln(8/5))
    #   = 0.9 * 0.4700036 + 0.0333333 * (2.0794415 + 1.3862944 + 0.4700036) = 0.5541945841
    # sample 2: logits (0, 0, 0), label 0: every -ln p_k = ln 3, so the loss is ln 3 whatever q
    # mean = (0.5541945841 + 1.0986122887) / 2
    logits = torch.stack((torch.log(t([1.0, 2.0, 5.0])), t([0.0, 0.0, 0.0])))
    expected_first = 0.9 * math.log(1.6) + 0.1 / 3 * (math.log(8) + math.log(4) + math.log(1.6))
    assert abs(expected_first - 0.5541945840560107) < 1e-12
    loss = CrossEntropyLabelSmooth(epsilon=0.1)(logits, labels([2, 0]))
    assert close(loss, (expected_first + math.log(3)) / 2)
    per_sample = cross_entropy_label_smooth(logits, labels([2, 0]), 0.1, reduction="none")
    assert torch.allclose(per_sample, t([expected_first, math.log(3)]))


def test_identity_rejects_bad_epsilon():
    with pytest.raises(ValueError):
        CrossEntropyLabelSmooth(epsilon=1.5)
    with pytest.raises(ValueError):
        cross_entropy_label_smooth(torch.zeros(1, 2), labels([0]), epsilon=-0.1)


# --- distances and mining -------------------------------------------------------------------------------


def test_pairwise_distances_are_plain_euclidean():
    # (0, 0), (3, 4), (6, 8): distances 5, 10, 5; squared 25, 100, 25
    x = t([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert torch.allclose(pairwise_euclidean(x), t([[1e-6, 5, 10], [5, 1e-6, 5], [10, 5, 1e-6]]))
    assert torch.allclose(pairwise_squared_euclidean(x), t([[0, 25, 100], [25, 0, 25], [100, 25, 0]]))


# The triplet batch, 5 points in 2-d, labels 0 0 1 1 2:
#   x0 = (0, 0)  l0     x1 = (3, 4)  l0     x2 = (3, 0)  l1     x3 = (3, -4)  l1     x4 = (0, -8)  l2
# Distances (3-4-5 triangles): d01 = 5, d02 = 3, d03 = 5, d04 = 8, d12 = 4, d13 = 8, d14 = sqrt(153),
#   d23 = 4, d24 = sqrt(73) = 8.54, d34 = 5.
TRIPLET_X = [[0.0, 0.0], [3.0, 4.0], [3.0, 0.0], [3.0, -4.0], [0.0, -8.0]]
TRIPLET_Y = [0, 0, 1, 1, 2]


def test_hardest_pairs_by_hand():
    # anchor 0: positives {1: 5} -> 1; negatives {2: 3, 3: 5, 4: 8} -> 2
    # anchor 1: positives {0: 5} -> 0; negatives {2: 4, 3: 8, 4: 12.4} -> 2
    # anchor 2: positives {3: 4} -> 3; negatives {0: 3, 1: 4, 4: 8.5} -> 0
    # anchor 3: positives {2: 4} -> 2; negatives {0: 5, 1: 8, 4: 5} -> 0 (tie with 4: the lower index)
    # anchor 4: the only one of label 2 -> no positive -> not valid
    x = t(TRIPLET_X)
    positive, negative, valid = hardest_pairs(pairwise_euclidean(x), labels(TRIPLET_Y))
    assert valid.tolist() == [True, True, True, True, False]
    assert positive[:4].tolist() == [1, 0, 3, 2]
    assert negative[:4].tolist() == [2, 2, 0, 0]


def test_batch_hard_triplet_by_hand():
    # margin 0.5, hinge max(0, d_ap - d_an + 0.5) per anchor (pairs of test_hardest_pairs_by_hand):
    #   anchor 0: 5 - 3 + 0.5 = 2.5;  anchor 1: 5 - 4 + 0.5 = 1.5;  anchor 2: 4 - 3 + 0.5 = 1.5
    #   anchor 3: 4 - 5 + 0.5 = -0.5 -> 0;  anchor 4 left out (no positive)
    # mean over the 4 valid anchors: (2.5 + 1.5 + 1.5 + 0) / 4 = 1.375
    # (squared distances would give anchor 0 25 - 9 + 0.5 = 16.5: the distance is not squared)
    x = t(TRIPLET_X)
    assert close(BatchHardTripletLoss(margin=0.5)(x, labels(TRIPLET_Y)), 1.375)
    # margin 1: 3, 2, 2, 0 -> 7 / 4
    assert close(batch_hard_triplet_loss(x, labels(TRIPLET_Y), margin=1.0), 1.75)


def test_batch_hard_triplet_normalize_by_hand():
    # x0 = (2, 0) l0, x1 = (0, 3) l0, x2 = (-1, 0) l1
    # raw: d01 = sqrt(13) = 3.606, d02 = 3, d12 = sqrt(10) = 3.162
    #   anchor 0: sqrt(13) - 3 + 0.5 = 1.1056; anchor 1: sqrt(13) - sqrt(10) + 0.5 = 0.9434;
    #   anchor 2: no positive. Mean (1.1056 + 0.9434) / 2 = 1.0244
    # normalised: (1, 0), (0, 1), (-1, 0): d01 = sqrt(2), d02 = 2, d12 = sqrt(2)
    #   anchor 0: sqrt(2) - 2 + 0.5 = -0.086 -> 0; anchor 1: sqrt(2) - sqrt(2) + 0.5 = 0.5. Mean 0.25
    x, y = t([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]]), labels([0, 0, 1])
    raw = (math.sqrt(13) - 3 + 0.5 + math.sqrt(13) - math.sqrt(10) + 0.5) / 2
    assert close(BatchHardTripletLoss(0.5, normalize=False)(x, y), raw)
    assert close(BatchHardTripletLoss(0.5, normalize=True)(x, y), 0.25)


def test_batch_hard_triplet_zero_when_separated_beyond_margin():
    # two identities 100 apart, each within 1: d_ap <= 1, d_an >= 99, 1 - 99 + 0.5 < 0 for every anchor
    x = t([[0.0, 0.0], [1.0, 0.0], [100.0, 0.0], [100.0, 1.0]]).requires_grad_()
    loss = batch_hard_triplet_loss(x, labels([0, 0, 1, 1]), margin=0.5)
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert torch.count_nonzero(x.grad) == 0


def test_batch_hard_triplet_without_valid_anchor_is_zero():
    # one identity only (no negatives), all identities distinct (no positives): 0, and backward works
    for y in ([3, 3, 3], [0, 1, 2]):
        x = torch.randn(3, 4, dtype=D64, requires_grad=True)
        loss = batch_hard_triplet_loss(x, labels(y))
        loss.backward()
        assert float(loss.detach()) == 0.0
        assert torch.count_nonzero(x.grad) == 0


def test_batch_hard_triplet_gradient():
    # x0 = (0, 0), x1 = (3, 4) l0; x2 = (3, 0), x3 = (3, -4) l1: hinges 5 - 3 + 0.5, 5 - 4 + 0.5, 4 - 3 + 0.5
    # active, anchor 3's 4 - 5 + 0.5 inactive; no tie and no hinge at its kink, so the analytic gradient
    # must match finite differences
    x = t([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0], [3.0, -4.0]]).requires_grad_()
    assert torch.autograd.gradcheck(lambda f: batch_hard_triplet_loss(f, labels([0, 0, 1, 1])), (x,))


# --- soft cross-entropy (MMT) ---------------------------------------------------------------------------


def test_soft_cross_entropy_by_hand():
    # student logits ln(1, 2, 5): log p = ln(1/8), ln(2/8), ln(5/8)
    # teacher logits ln(1, 1, 2): q = (1/4, 1/4, 1/2)
    # loss = 1/4 ln 8 + 1/4 ln 4 + 1/2 ln 1.6 = 0.5198604 + 0.3465736 + 0.2350018 = 1.1014358
    student = torch.log(t([[1.0, 2.0, 5.0]]))
    teacher = torch.log(t([[1.0, 1.0, 2.0]]))
    expected = 0.25 * math.log(8) + 0.25 * math.log(4) + 0.5 * math.log(1.6)
    assert abs(expected - 1.1014357903227994) < 1e-12
    assert close(SoftCrossEntropyLoss()(student, teacher), expected)
    # a batch of two: the mean over the batch (second row: uniform teacher, student (0, 0, 0): ln 3)
    student2 = torch.cat((student, torch.zeros(1, 3, dtype=D64)))
    teacher2 = torch.cat((teacher, torch.zeros(1, 3, dtype=D64)))
    assert close(soft_cross_entropy(student2, teacher2), (expected + math.log(3)) / 2)


def test_soft_cross_entropy_equals_hard_with_one_hot_teacher():
    # teacher logits 200 * one_hot: softmax is one-hot to within exp(-200), so soft CE = hard CE
    torch.manual_seed(0)
    student = torch.randn(4, 5, dtype=D64)
    y = labels([0, 3, 3, 1])
    teacher = 200.0 * F.one_hot(y, 5).to(D64)
    assert torch.allclose(soft_cross_entropy(student, teacher), F.cross_entropy(student, y), atol=1e-12)


def test_soft_cross_entropy_is_entropy_when_teacher_is_student():
    # q = p: loss = mean_i H(p_i); for logits ln(1, 2, 5): H = 1/8 ln 8 + 2/8 ln 4 + 5/8 ln 1.6 = 0.9003
    logits = torch.log(t([[1.0, 2.0, 5.0]]))
    entropy = (math.log(8) + 2 * math.log(4) + 5 * math.log(1.6)) / 8
    assert close(soft_cross_entropy(logits, logits), entropy)
    # and the student's gradient (p - q) / N vanishes there
    student = logits.clone().requires_grad_()
    soft_cross_entropy(student, logits).backward()
    assert torch.allclose(student.grad, torch.zeros_like(student), atol=1e-12)


def test_soft_cross_entropy_gradient_reaches_student_only():
    # d loss / d student = (softmax(student) - softmax(teacher)) / N; the teacher gets nothing
    torch.manual_seed(1)
    student = torch.randn(3, 4, dtype=D64, requires_grad=True)
    teacher = torch.randn(3, 4, dtype=D64, requires_grad=True)
    soft_cross_entropy(student, teacher).backward()
    assert teacher.grad is None
    expected = (F.softmax(student.detach(), 1) - F.softmax(teacher.detach(), 1)) / 3
    assert torch.allclose(student.grad, expected, atol=1e-12)


# --- soft triplet (MMT) ---------------------------------------------------------------------------------


def test_soft_triplet_by_hand():
    # student x0 = (0, 0) l0, x1 = (3, 4) l0, x2 = (3, 0) l1: d01 = 5, d02 = 3, d12 = 4
    # teacher g0 = (0, 0), g1 = (1, 0), g2 = (0, 2): d01 = 1, d02 = 2, d12 = sqrt(5)
    # anchor 0: p = 1, n = 2. tau(student) = e^3 / (e^5 + e^3) = sig(3 - 5) = sig(-2) = 0.1192
    #   tau(teacher) = sig(2 - 1) = sig(1) = 0.7311; BCE = -(0.7311 ln 0.1192 + 0.2689 ln 0.8808) = 1.5890
    # anchor 1: p = 0, n = 2. tau(student) = sig(4 - 5) = sig(-1) = 0.2689
    #   tau(teacher) = sig(sqrt(5) - 1) = sig(1.2361) = 0.7749; BCE = 1.0881
    # anchor 2: no positive -> left out. Mean (1.5890 + 1.0881) / 2 = 1.3386
    student = t([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0]])
    teacher = t([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    expected = (bce(sig(1.0), sig(-2.0)) + bce(sig(math.sqrt(5) - 1), sig(-1.0))) / 2
    assert abs(expected - 1.3385928515749383) < 1e-12
    assert close(SoftTripletLoss()(student, teacher, labels([0, 0, 1])), expected)


def test_soft_triplet_mines_on_the_student():
    # 1-d positions, labels 0 0 0 1: student 0, 1, 3, 10; teacher 0, 5, 1, 2
    # student d01 = 1, d02 = 3, d03 = 10, d12 = 2, d13 = 9, d23 = 7
    # teacher d01 = 5, d02 = 1, d03 = 2, d12 = 4, d13 = 3, d23 = 1
    # anchor 0: student's hardest positive 2 (3 > 1; the teacher's would be 1), negative 3
    #   tau(student) = sig(10 - 3) = sig(7); tau(teacher) on (0, 2, 3) = sig(2 - 1) = sig(1)
    # anchor 1: positives 0 (1), 2 (2) -> 2; negative 3: sig(9 - 2) = sig(7); teacher sig(3 - 4) = sig(-1)
    # anchor 2: positives 0 (3), 1 (2) -> 0; negative 3: sig(7 - 3) = sig(4); teacher sig(1 - 1) = 0.5
    # anchor 3: no positive. Mean of BCE(sig(1), sig(7)) = 1.8835, BCE(sig(-1), sig(7)) = 5.1183,
    #   BCE(0.5, sig(4)) = 2.0181 -> 3.0067
    student = t([[0.0], [1.0], [3.0], [10.0]])
    teacher = t([[0.0], [5.0], [1.0], [2.0]])
    expected = (bce(sig(1), sig(7)) + bce(sig(-1), sig(7)) + bce(0.5, sig(4))) / 3
    assert abs(expected - 3.006657620275135) < 1e-12
    assert close(soft_triplet_loss(student, teacher, labels([0, 0, 0, 1])), expected, tol=1e-8)


def test_soft_triplet_gradient_reaches_student_only():
    # teacher == student (a copy): the BCE is at its minimum in tau(student), so the student's gradient is 0
    # and the loss is the binary entropy of tau; the teacher never gets a gradient
    torch.manual_seed(2)
    y = labels([0, 0, 1, 1, 2, 2])
    student = torch.randn(6, 3, dtype=D64, requires_grad=True)
    teacher = student.detach().clone().requires_grad_()
    loss = soft_triplet_loss(student, teacher, y)
    loss.backward()
    assert teacher.grad is None
    assert torch.allclose(student.grad, torch.zeros_like(student), atol=1e-10)
    d = pairwise_euclidean(student.detach())
    positive, negative, _ = hardest_pairs(d, y)
    rows = torch.arange(6)
    tau = torch.sigmoid(d[rows, negative] - d[rows, positive])
    entropy = -(tau * tau.log() + (1 - tau) * (1 - tau).log()).mean()
    assert close(loss, float(entropy))
    # a different teacher: the student gets a gradient, the teacher still none
    student.grad = None
    teacher = torch.randn(6, 3, dtype=D64, requires_grad=True)
    soft_triplet_loss(student, teacher, y).backward()
    assert teacher.grad is None
    assert torch.count_nonzero(student.grad) > 0


def test_soft_triplet_without_valid_anchor_is_zero():
    student = torch.randn(3, 2, dtype=D64, requires_grad=True)
    loss = soft_triplet_loss(student, torch.randn(3, 2, dtype=D64), labels([0, 1, 2]))
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert torch.count_nonzero(student.grad) == 0


# --- TAUDL: PCTD ----------------------------------------------------------------------------------------

# Batch of 3: sample 0 camera 0 label 1, sample 1 camera 1 label 2, sample 2 camera 0 label 0.
# Branch 0 (2 classes), branch 1 (3 classes), each applied to the whole batch. Rows of the other camera are
# poison (1000 on a wrong class): using them would change the loss by hundreds.
#   sample 0, branch 0: logits (0, ln 3) -> p(1) = 3/4 -> ln(4/3) = 0.2877
#   sample 1, branch 1: logits (0, 0, ln 2) -> p(2) = 2/4 -> ln 2 = 0.6931
#   sample 2, branch 0: logits (ln 3, 0) -> p(0) = 3/4 -> ln(4/3)
# L_pctd = (2 ln(4/3) + ln 2) / 3 = 0.4228371
PCTD_EXPECTED = (2 * math.log(4 / 3) + math.log(2)) / 3
PCTD_LABELS = [1, 2, 0]
PCTD_CAMERAS = [0, 1, 0]


def pctd_branches() -> list[torch.Tensor]:
    ln3, ln2 = math.log(3), math.log(2)
    branch0 = t([[0.0, ln3], [1000.0, -1000.0], [ln3, 0.0]])
    branch1 = t([[1000.0, 0.0, 0.0], [0.0, 0.0, ln2], [1000.0, 0.0, 0.0]])
    return [branch0, branch1]


def test_pctd_by_hand():
    assert abs(PCTD_EXPECTED - 0.4228371084878357) < 1e-12
    loss = PCTDLoss()(pctd_branches(), labels(PCTD_LABELS), labels(PCTD_CAMERAS))
    assert close(loss, PCTD_EXPECTED)


def test_pctd_accepts_per_camera_rows_and_camera_id_mappings():
    # the same batch with camera ids 7 and 3, and each branch given only its own camera's rows (in order)
    branch0, branch1 = pctd_branches()
    cameras = labels([7, 3, 7])
    assert close(pctd_loss({7: branch0, 3: branch1}, labels(PCTD_LABELS), cameras), PCTD_EXPECTED)
    own_rows = {7: branch0[[0, 2]], 3: branch1[[1]]}
    assert close(pctd_loss(own_rows, labels(PCTD_LABELS), cameras), PCTD_EXPECTED)


def test_pctd_uses_only_the_own_camera_branch():
    branches = [b.clone().requires_grad_() for b in pctd_branches()]
    pctd_loss(branches, labels(PCTD_LABELS), labels(PCTD_CAMERAS)).backward()
    # branch 0 gets gradient on samples 0 and 2 only, branch 1 on sample 1 only: (p - onehot) / N
    assert torch.count_nonzero(branches[0].grad[1]) == 0
    assert torch.count_nonzero(branches[1].grad[[0, 2]]) == 0
    assert torch.allclose(branches[0].grad[0], t([0.25, -0.25]) / 3)
    assert torch.allclose(branches[1].grad[1], t([0.25, 0.25, -0.5]) / 3)


def test_pctd_rejects_missing_branches_and_bad_rows():
    branch0, branch1 = pctd_branches()
    with pytest.raises(ValueError, match="no classifier branch"):
        pctd_loss([branch0], labels(PCTD_LABELS), labels(PCTD_CAMERAS))
    with pytest.raises(ValueError, match="rows"):
        pctd_loss([branch0[:1], branch1], labels(PCTD_LABELS), labels(PCTD_CAMERAS))


# --- TAUDL: CCTA ----------------------------------------------------------------------------------------

# Batch of 6 frames, 2 cameras, 4 tracklets ((camera, label) pairs), 2-d features:
#   A = (cam 0, label 0): frames (0, 0), (2, 0) -> mean (1, 0)
#   B = (cam 0, label 1): frame (1, 3)          -> (1, 3)
#   C = (cam 1, label 0): frame (1, 1)          -> (1, 1)     (label 0 again, but another camera)
#   D = (cam 1, label 1): frames (1, 1), (3, 1) -> mean (2, 1)
# Squared distances: AB = 9, AC = 1, AD = 2, BC = 4, BD = 5, CD = 1.
# T = 2 cameras -> K = T / 2 = 1 nearest tracklet of the other camera:
#   A -> C (1 < 2);  B -> C (4 < 5);  C -> A (1 < 4);  D -> A (2 < 5; C, at 1, is nearer but same camera)
# Kernel exp(-d / (2 sigma^2)) = exp(-d / 8) =: e(d); per tracklet, with the self term 1 in the denominator:
#   L = -ln(e(d_nn) / (1 + sum of e over the other three)) = ln(1 + ...) + d_nn / 8
#   A: ln(1 + e(9) + e(1) + e(2)) + 1/8 = 1.2189180
#   B: ln(1 + e(9) + e(4) + e(5)) + 4/8 = 1.4027777
#   C: ln(1 + e(1) + e(4) + e(1)) + 1/8 = 1.3403650
#   D: ln(1 + e(2) + e(5) + e(1)) + 2/8 = 1.4120750
# mean = 1.3435339
CCTA_FRAMES = [[2.0, 0.0], [1.0, 1.0], [1.0, 3.0], [3.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
CCTA_CAMERAS = [0, 1, 0, 1, 0, 1]
CCTA_TRACKLETS = [0, 1, 1, 1, 0, 0]  # frames in shuffled order: A, D, B, D, A, C


def e(d: float) -> float:
    return math.exp(-d / 8.0)


CCTA_EXPECTED = (
    math.log(1 + e(9) + e(1) + e(2))
    + 1 / 8
    + math.log(1 + e(9) + e(4) + e(5))
    + 4 / 8
    + math.log(1 + e(1) + e(4) + e(1))
    + 1 / 8
    + math.log(1 + e(2) + e(5) + e(1))
    + 2 / 8
) / 4


def ccta_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return t(CCTA_FRAMES), labels(CCTA_CAMERAS), labels(CCTA_TRACKLETS)


def test_tracklet_means_group_by_camera_and_label():
    means, cameras, inverse = tracklet_means(*ccta_batch())
    # sorted by (camera, label): A, B, C, D
    assert torch.equal(means, t([[1.0, 0.0], [1.0, 3.0], [1.0, 1.0], [2.0, 1.0]]))
    assert cameras.tolist() == [0, 0, 1, 1]
    assert inverse.tolist() == [0, 3, 1, 3, 0, 2]


def test_cross_camera_neighbours_ignore_the_same_camera():
    means, cameras, _ = tracklet_means(*ccta_batch())
    neighbours, valid = cross_camera_neighbours(pairwise_squared_euclidean(means), cameras, k=1)
    # A -> C, B -> C, C -> A, D -> A (not C, its nearest, which is of its own camera)
    expected = [[0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    assert neighbours.int().tolist() == expected
    assert valid.all()
    # k larger than the other camera's tracklets: all of them (2 each), never one of the own camera
    neighbours, _ = cross_camera_neighbours(pairwise_squared_euclidean(means), cameras, k=3)
    assert neighbours.int().tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 0, 0]]


def test_ccta_by_hand():
    assert abs(CCTA_EXPECTED - 1.3435339069686925) < 1e-12
    assert close(CCTALoss()(*ccta_batch()), CCTA_EXPECTED)
    # without the self term: ln(e(9) + e(1) + e(2)) + 1/8, ... -> mean 0.9298408
    no_self = (
        math.log(e(9) + e(1) + e(2))
        + 1 / 8
        + math.log(e(9) + e(4) + e(5))
        + 4 / 8
        + math.log(e(1) + e(4) + e(1))
        + 1 / 8
        + math.log(e(2) + e(5) + e(1))
        + 2 / 8
    ) / 4
    assert abs(no_self - 0.9298408367483609) < 1e-12
    assert close(ccta_loss(*ccta_batch(), include_self=False), no_self)


def test_ccta_k_from_the_number_of_cameras():
    # K = 2 (given, or T = 4 cameras -> 4 / 2): both tracklets of the other camera are neighbours
    #   A: ln(1 + e(9) + e(1) + e(2)) - ln(e(1) + e(2)), B: ... - ln(e(4) + e(5)),
    #   C: ln(1 + e(1) + e(4) + e(1)) - ln(e(1) + e(4)), D: ln(1 + e(2) + e(5) + e(1)) - ln(e(2) + e(5))
    # mean = 0.7656728
    expected = (
        math.log(1 + e(9) + e(1) + e(2))
        - math.log(e(1) + e(2))
        + math.log(1 + e(9) + e(4) + e(5))
        - math.log(e(4) + e(5))
        + math.log(1 + e(1) + e(4) + e(1))
        - math.log(e(1) + e(4))
        + math.log(1 + e(2) + e(5) + e(1))
        - math.log(e(2) + e(5))
    ) / 4
    assert abs(expected - 0.7656727572401877) < 1e-12
    assert close(ccta_loss(*ccta_batch(), k=2), expected)
    assert close(CCTALoss(num_cameras=4)(*ccta_batch()), expected)
    assert close(CCTALoss(num_cameras=3)(*ccta_batch()), CCTA_EXPECTED)  # 3 // 2 = 1


def test_ccta_same_camera_tracklets_are_pushed_not_pulled():
    # moving C onto D (same camera) changes only denominators: the neighbours stay A -> C, ..., D -> A
    frames, cameras, tracklets = ccta_batch()
    frames[1] = frames[3] = t([2.0, 1.0])  # D's frames both at (2, 1): D unchanged
    frames[5] = t([2.0, 1.0])  # C now at (2, 1) too: CD = 0, AC = 2, BC = 5
    means, tracklet_cameras, _ = tracklet_means(frames, cameras, tracklets)
    neighbours, _ = cross_camera_neighbours(pairwise_squared_euclidean(means), tracklet_cameras, k=1)
    # A: C (2) vs D (2) tie -> lower index C; B: C (5) vs D (5) -> C; C -> A (2 < 5); D -> A
    assert neighbours.int().tolist() == [[0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    # D: ln(1 + e(AD = 2) + e(BD = 5) + e(CD = 0)) + 2/8 -- C is in the denominator with e(0) = 1
    # A: ln(1 + e(9) + e(2) + e(2)) + 2/8; B: ln(1 + e(9) + e(5) + e(5)) + 5/8;
    # C: ln(1 + e(2) + e(5) + 1) + 2/8
    expected = (
        math.log(1 + e(9) + e(2) + e(2))
        + 2 / 8
        + math.log(1 + e(9) + e(5) + e(5))
        + 5 / 8
        + math.log(1 + e(2) + e(5) + 1)
        + 2 / 8
        + math.log(1 + e(2) + e(5) + 1)
        + 2 / 8
    ) / 4
    assert close(ccta_loss(frames, cameras, tracklets), expected)


def test_ccta_single_camera_is_zero():
    # no tracklet has a cross-camera tracklet: all left out, 0, and backward still works
    frames = t(CCTA_FRAMES).requires_grad_()
    loss = ccta_loss(frames, labels([0] * 6), labels(CCTA_TRACKLETS))
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert torch.count_nonzero(frames.grad) == 0


def test_ccta_gradient():
    frames = t(CCTA_FRAMES).requires_grad_()
    cameras, tracklets = labels(CCTA_CAMERAS), labels(CCTA_TRACKLETS)
    for include_self in (True, False):
        assert torch.autograd.gradcheck(
            lambda f, s=include_self: ccta_loss(f, cameras, tracklets, include_self=s), (frames,)
        )


# --- TAUDL: joint loss ----------------------------------------------------------------------------------


def test_taudl_joint_loss_by_hand():
    # the CCTA batch with all-zero logits on 2-class branches: every CE is ln 2, so L_pctd = ln 2
    # L_taudl = (1 - 0.7) ln 2 + 0.7 * 1.3435339 = 0.2079442 + 0.9404737 = 1.1484180
    frames, cameras, tracklets = ccta_batch()
    logits = [torch.zeros(6, 2, dtype=D64), torch.zeros(6, 2, dtype=D64)]
    out = TAUDLLoss()(frames, logits, tracklets, cameras)
    assert TAUDL_LAMBDA == 0.7
    assert close(out.pctd, math.log(2))
    assert close(out.ccta, CCTA_EXPECTED)
    assert close(out.total, 0.3 * math.log(2) + 0.7 * CCTA_EXPECTED)
    assert close(TAUDLLoss(weight=0.0)(frames, logits, tracklets, cameras).total, math.log(2))


def test_taudl_trains_a_per_camera_head_model():
    # a trainer with one nn.Linear per camera: one backward reaches the shared layer and both heads
    torch.manual_seed(3)
    shared = torch.nn.Linear(4, 8).double()
    heads = torch.nn.ModuleList([torch.nn.Linear(8, 3).double(), torch.nn.Linear(8, 2).double()])
    x = torch.randn(8, 4, dtype=D64)
    cameras = labels([0, 0, 0, 0, 1, 1, 1, 1])
    tracklet = labels([0, 1, 2, 2, 0, 0, 1, 1])
    features = shared(x)
    out = TAUDLLoss()(features, [head(features) for head in heads], tracklet, cameras)
    out.total.backward()
    assert all(p.grad is not None and torch.count_nonzero(p.grad) > 0 for p in shared.parameters())
    assert all(p.grad is not None for p in heads.parameters())
    assert torch.isfinite(out.total)
