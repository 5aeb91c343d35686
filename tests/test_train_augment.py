"""Batch augmentation: exact pixels for flip, pad + crop and erasing, the sampled distributions, and the
parity of a batch augmented whole or in per-rank slices."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reid_from_video.core.config import config_from_dict
from reid_from_video.core.errors import ConfigError
from reid_from_video.train.augment import (
    AugmentConfig,
    AugmentParams,
    augment,
    normalize,
    sample_params,
)

H, W = 16, 8


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, H, W, generator=torch.Generator().manual_seed(seed))


def params(n: int, flip=False, dy=0, dx=0, erase=(0, 0, 0, 0), padding=0) -> AugmentParams:
    return AugmentParams(
        flip=torch.full((n,), flip),
        dy=torch.full((n,), dy),
        dx=torch.full((n,), dx),
        erase=torch.tensor([erase] * n, dtype=torch.int64),
        padding=padding,
    )


def reference(batch: torch.Tensor, p: AugmentParams) -> torch.Tensor:
    """The augmentation image by image, as torchvision-style transforms would do it."""
    out = []
    for i, image in enumerate(batch):
        if p.flip[i]:
            image = image.flip(-1)
        pad = p.padding
        image = F.pad(image, (pad, pad, pad, pad))[:, p.dy[i] : p.dy[i] + H, p.dx[i] : p.dx[i] + W].clone()
        y0, x0, y1, x1 = p.erase[i].tolist()
        image[:, y0:y1, x0:x1] = 0
        out.append(image)
    return torch.stack(out)


def test_flip_only_mirrors_the_drawn_rows_and_leaves_the_others():
    config = AugmentConfig(flip=0.5, padding=0, erasing=0.0)
    p = sample_params(32, H, W, config, torch.Generator().manual_seed(3))
    assert 5 < int(p.flip.sum()) < 27 and (p.dy == 0).all() and (p.erase == 0).all()
    x = images(32)
    out = augment(x, p)
    assert torch.equal(out[p.flip], x[p.flip].flip(-1))
    assert torch.equal(out[~p.flip], x[~p.flip])


def test_pad_crop_offsets():
    x = images(2)
    assert torch.equal(augment(x, params(2, dy=3, dx=3, padding=3)), x)  # the centre crop: identity
    shifted = augment(x, params(2, dy=0, dx=0, padding=3))  # window at the padded top-left
    assert torch.equal(shifted[:, :, 3:, 3:], x[:, :, : H - 3, : W - 3])
    assert (shifted[:, :, :3] == 0).all() and (shifted[..., :3] == 0).all()  # the mean colour
    up = augment(x, params(2, dy=6, dx=3, padding=3))  # window at the padded bottom: the image moves up
    assert torch.equal(up[:, :, : H - 3], x[:, :, 3:]) and (up[:, :, H - 3 :] == 0).all()


def test_flip_happens_before_the_crop():
    x = images(1)
    out = augment(x, params(1, flip=True, dy=3, dx=0, padding=3))
    assert torch.equal(out[..., 3:], x.flip(-1)[..., : W - 3]) and (out[..., :3] == 0).all()


def test_erasing_zeroes_exactly_the_rectangle():
    x = images(2) + 10  # no pixel is 0 before erasing
    out = augment(x, params(2, erase=(2, 1, 9, 5)))
    assert (out[:, :, 2:9, 1:5] == 0).all()
    inside = torch.zeros(H, W, dtype=torch.bool)
    inside[2:9, 1:5] = True
    assert torch.equal(out[:, :, ~inside], x[:, :, ~inside])
    assert int((out == 0).sum()) == 2 * 3 * 7 * 4


def test_random_params_match_the_image_by_image_reference():
    config = AugmentConfig(padding=3)
    p = sample_params(64, H, W, config, torch.Generator().manual_seed(0))
    assert p.flip.any() and (~p.flip).any() and (p.erase[:, 2] > p.erase[:, 0]).any()
    x = images(64)
    assert torch.equal(augment(x, p), reference(x, p))


def test_erasing_statistics():
    height, width, n = 256, 128, 4000
    config = AugmentConfig(flip=0.0, padding=0, erasing=0.5)
    p = sample_params(n, height, width, config, torch.Generator().manual_seed(1))
    y0, x0, y1, x1 = p.erase.T
    erased = y1 > y0
    assert abs(erased.float().mean().item() - 0.5) < 0.03
    assert ((y1 == y0) == (x1 == x0)).all() and (p.erase[~erased] == 0).all()
    h, w = (y1 - y0)[erased].double(), (x1 - x0)[erased].double()
    assert (y0 >= 0).all() and (x0 >= 0).all() and (y1 <= height).all() and (x1 <= width).all()
    # Positions reach both edges (ends exclusive): no off-by-one in the placement.
    assert (
        (y0[erased] == 0).any() and (y1 == height).any() and (x0[erased] == 0).any() and (x1 == width).any()
    )
    share = h * w / (height * width)
    # Rounding the sides moves the area and ratio a little past the drawn values.
    assert share.min() >= 0.02 * 0.9 and share.max() <= 0.4 * 1.1
    assert share.min() < 0.03 and share.max() > 0.35  # the whole range is used
    ratio = h / w
    assert ratio.min() >= 0.3 * 0.9 and ratio.max() <= 3.33 * 1.1
    # log-uniform: the log ratio is centred near log(sqrt(0.3 * 3.33)) = 0 (wide ones fail to fit more often)
    assert abs(ratio.log().median().item()) < 0.25 and ratio.min() < 0.4 and ratio.max() > 2.5
    always = sample_params(500, height, width, AugmentConfig(erasing=1.0), torch.Generator().manual_seed(2))
    assert (always.erase[:, 2] > always.erase[:, 0]).float().mean() > 0.99


def test_crop_offsets_cover_zero_to_twice_the_padding():
    p = sample_params(2000, H, W, AugmentConfig(padding=2), torch.Generator().manual_seed(0))
    for offsets in (p.dy, p.dx):
        counts = torch.bincount(offsets, minlength=5)
        assert len(counts) == 5 and (counts > 300).all()
    assert abs(p.flip.float().mean().item() - 0.5) < 0.04


def test_slices_of_the_global_batch_augment_as_the_whole():
    p = sample_params(8, H, W, AugmentConfig(padding=3), torch.Generator().manual_seed(5))
    x = images(8)
    whole = augment(x, p)
    halves = torch.cat([augment(x[:4], p.slice(0, 4)), augment(x[4:], p.slice(4, 8))])
    assert torch.equal(halves, whole)
    assert len(p.slice(2, 5)) == 3 and torch.equal(p.slice(2, 5).erase, p.erase[2:5])


def test_same_seed_same_params_other_seed_other_params():
    config = AugmentConfig()

    def draw(seed: int) -> AugmentParams:
        return sample_params(16, 256, 128, config, torch.Generator().manual_seed(seed))

    a, b, c = draw(7), draw(7), draw(8)
    for name in ("flip", "dy", "dx", "erase"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.erase, c.erase)
    assert a.flip.dtype == torch.bool and a.dy.dtype == a.erase.dtype == torch.int64
    assert a.padding == 10 and int(a.dy.max()) <= 20


def test_normalize_matches_the_formula_and_layouts():
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    raw = torch.randint(0, 256, (2, H, W, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    m, s = (torch.tensor(v, dtype=torch.float64).view(1, 3, 1, 1) for v in (mean, std))
    manual = (raw.permute(0, 3, 1, 2).double() / 255 - m) / s
    last = normalize(raw, mean, std)
    plain = normalize(raw, mean, std, channels_last=False)
    assert last.dtype == torch.float32 and last.shape == (2, 3, H, W)
    assert last.is_contiguous(memory_format=torch.channels_last) and not last.is_contiguous()
    assert plain.is_contiguous()
    assert torch.allclose(last.double(), manual, atol=1e-5) and torch.equal(last, plain)
    assert last[0, 2, 0, 0].item() == pytest.approx((raw[0, 0, 0, 2].item() / 255 - 0.406) / 0.225, abs=1e-5)
    with pytest.raises(ValueError):
        normalize(raw.float(), mean, std)


def test_channels_last_batches_keep_their_layout_and_values():
    p = sample_params(6, H, W, AugmentConfig(padding=3), torch.Generator().manual_seed(4))
    x = images(6)
    nhwc = x.contiguous(memory_format=torch.channels_last)
    out = augment(nhwc, p)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    assert augment(x, p).is_contiguous()
    assert torch.equal(out, augment(x, p)) and out.dtype == x.dtype


def test_bfloat16_batches_augment_in_their_dtype():
    p = sample_params(4, H, W, AugmentConfig(padding=3), torch.Generator().manual_seed(4))
    x = images(4).to(torch.bfloat16)
    out = augment(x, p)
    assert out.dtype == torch.bfloat16 and torch.equal(out, reference(x, p))


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="2 rows"):
        augment(images(3), params(2))
    with pytest.raises(ValueError, match="float"):
        augment(torch.zeros(1, 3, H, W, dtype=torch.uint8), params(1))
    with pytest.raises(ValueError, match="inconsistent"):
        AugmentParams(torch.zeros(2, dtype=torch.bool), torch.zeros(2), torch.zeros(3), torch.zeros(2, 4), 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"flip": 1.5},
        {"erasing": -0.1},
        {"padding": -1},
        {"erasing_area": (0.5, 0.2)},
        {"erasing_ratio": (0, 2)},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(ValueError):
        AugmentConfig(**kwargs)


def test_config_from_yaml_values():
    config = config_from_dict(AugmentConfig, {"erasing_area": [0.1, 0.2], "padding": 4})
    assert config.erasing_area == (0.1, 0.2) and config.padding == 4 and config.erasing_ratio == (0.3, 3.33)
    assert AugmentConfig().erasing_area == (0.02, 0.4)
    with pytest.raises(ConfigError):
        config_from_dict(AugmentConfig, {"flip": 2})
