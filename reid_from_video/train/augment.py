"""Re-ID training augmentation on whole batches, in torch on the training device (bag of tricks / fast-reid).

The usual re-ID recipe, in fast-reid's order, on images already resized to the model input (H, W):

1. **random horizontal flip** (probability ``flip``);
2. **pad and random crop**: ``padding`` pixels on each side, then an (H, W) window at a random offset
   (``dy``, ``dx`` in 0..2*padding; ``padding`` each is the identity);
3. **random erasing** (Zhong et al. 2017, "Random Erasing Data Augmentation"): with probability ``erasing``
   a rectangle of area share uniform in ``erasing_area`` and aspect ratio (height / width) log-uniform in
   ``erasing_ratio``; up to :data:`ERASING_TRIES` draws, the first that fits inside the image is used
   (torchvision's ``RandomErasing`` rule), none fitting: no erasing.

Everything runs on the *normalised* batch ((x / 255 - mean) / std), so both the padding and the erased
rectangle are filled with 0, which is the mean colour. fast-reid pads the PIL image with black and
reid-strong-baseline erases with the ImageNet mean in normalised space (a near-black); the mean colour is the
neutral choice that carries no signal, and it is what zero fill after normalisation gives for free.

All randomness is drawn up front by :func:`sample_params`, per image, for the whole *global* batch from a CPU
``torch.Generator``. A distributed rank takes its rows with :meth:`AugmentParams.slice`, so every image is
augmented exactly as in a single-process run with the same seed, whatever the number of ranks and whatever
the device (GPU random streams differ between devices and would break that parity). :func:`augment` itself
is deterministic and vectorised over the batch: one gather for flip + pad + crop, one mask for erasing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from reid_from_video.train.config import AugmentConfig

ERASING_TRIES = 10  # draws per image before random erasing gives up (torchvision's value)


@dataclass(frozen=True)
class AugmentParams:
    """The random draws of a batch, one row per image, all on the CPU.

    ``flip`` (N,) bool; ``dy``, ``dx`` (N,) int64 crop offsets into the padded image, in 0..2*padding;
    ``erase`` (N, 4) int64 ``[y0, x0, y1, x1]`` (end exclusive) in the output image, an empty rectangle
    (all 0) when the image is not erased; ``padding`` the pixels added on each side before cropping.
    """

    flip: Tensor
    dy: Tensor
    dx: Tensor
    erase: Tensor
    padding: int

    def __post_init__(self) -> None:
        n = len(self.flip)
        if not (len(self.dy) == len(self.dx) == len(self.erase) == n and self.erase.shape[1:] == (4,)):
            raise ValueError(
                f"inconsistent rows: flip {tuple(self.flip.shape)}, dy {tuple(self.dy.shape)}, "
                f"dx {tuple(self.dx.shape)}, erase {tuple(self.erase.shape)}"
            )

    def __len__(self) -> int:
        return len(self.flip)

    def slice(self, start: int, stop: int) -> AugmentParams:
        """The rows ``start:stop``: a distributed rank's part of the global batch."""
        part = slice(start, stop)
        return AugmentParams(self.flip[part], self.dy[part], self.dx[part], self.erase[part], self.padding)


def sample_params(
    n: int, height: int, width: int, config: AugmentConfig, generator: torch.Generator
) -> AugmentParams:
    """Draw the augmentation of ``n`` images of (``height``, ``width``) pixels from ``generator`` (CPU).

    The same draws are made whatever the probabilities, so the generator's stream advances by an amount
    that depends on ``n`` only; and a batch drawn at once equals the same rows drawn for a bigger batch
    sliced, which is what distributed parity relies on.
    """
    if n < 0 or height < 1 or width < 1:
        raise ValueError(f"need n >= 0 images of at least 1x1 pixels, got n={n}, {height}x{width}")
    p = config.padding
    flip = torch.rand(n, generator=generator, dtype=torch.float64) < config.flip
    dy = torch.randint(0, 2 * p + 1, (n,), generator=generator, dtype=torch.int64)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=generator, dtype=torch.int64)
    erase = _sample_erasing(n, height, width, config, generator)
    return AugmentParams(flip=flip, dy=dy, dx=dx, erase=erase, padding=p)


def _sample_erasing(
    n: int, height: int, width: int, config: AugmentConfig, generator: torch.Generator
) -> Tensor:
    """(n, 4) ``[y0, x0, y1, x1]`` rectangles (all 0: not erased), see the module docstring."""

    def uniform(low: float, high: float, shape: tuple[int, ...]) -> Tensor:
        return low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)

    shape = (n, ERASING_TRIES)
    apply = torch.rand(n, generator=generator, dtype=torch.float64) < config.erasing
    area = uniform(*config.erasing_area, shape) * (height * width)
    ratio = torch.exp(uniform(math.log(config.erasing_ratio[0]), math.log(config.erasing_ratio[1]), shape))
    h = torch.sqrt(area * ratio).round().long()
    w = torch.sqrt(area / ratio).round().long()
    # Uniform position among the height - h + 1 rows (width - w + 1 columns) where the rectangle fits.
    y0 = (uniform(0, 1, shape) * (height - h + 1)).floor().long().clamp(min=0).minimum(height - h)
    x0 = (uniform(0, 1, shape) * (width - w + 1)).floor().long().clamp(min=0).minimum(width - w)
    fits = (h >= 1) & (w >= 1) & (h < height) & (w < width)
    first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)  # the first try that fits (0 when none)
    y0, x0, h, w = (t.gather(1, first).squeeze(1) for t in (y0, x0, h, w))
    rectangle = torch.stack([y0, x0, y0 + h, x0 + w], dim=1)
    erased = apply & fits.any(dim=1)
    return torch.where(erased[:, None], rectangle, torch.zeros_like(rectangle))


def normalize(
    images: Tensor, mean: Sequence[float], std: Sequence[float], channels_last: bool = True
) -> Tensor:
    """(N, H, W, 3) uint8 images, on any device, -> float32 (N, 3, H, W) ``(x / 255 - mean) / std``.

    Meant to run on the training device after the uint8 batch is copied there (a quarter of the float
    bytes). ``mean`` and ``std`` are in the channel order of the images. ``channels_last``: the result is
    laid out NHWC in memory (what convolutions on a GPU prefer, and the natural layout of the input, so
    the conversion is a single pass); otherwise contiguous NCHW.
    """
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != torch.uint8:
        raise ValueError(f"expected (N, H, W, 3) uint8 images, got {tuple(images.shape)} {images.dtype}")
    if len(mean) != 3 or len(std) != 3:
        raise ValueError(f"mean and std need 3 values each, got {list(mean)}, {list(std)}")
    # x * scale + shift in one fused pass, the constants folded in float64.
    mean64, std64 = (torch.tensor(v, dtype=torch.float64).view(1, 3, 1, 1) for v in (mean, std))
    scale = (1 / (255 * std64)).to(images.device, torch.float32)
    shift = (-mean64 / std64).to(images.device, torch.float32)
    nchw = images.permute(0, 3, 1, 2)  # a view: NCHW shape, NHWC memory
    out = torch.addcmul(shift, nchw.to(torch.float32), scale)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    return out.contiguous(memory_format=layout)


def augment(images: Tensor, params: AugmentParams) -> Tensor:
    """Flip, pad + crop and erase the normalised float batch ``images`` (N, 3, H, W) as ``params`` say.

    A new tensor of the same shape, dtype, device and memory layout (channels_last stays channels_last);
    ``params`` (CPU) are moved to the device here. Flip and pad + crop are one gather: output pixel
    (i, j) of image n reads row ``i + dy`` and column ``j + dx`` of the zero-padded image, the column
    mirrored when flipped; erasing is a broadcast rectangle mask.
    """
    if images.ndim != 4 or not images.is_floating_point():
        raise ValueError(f"expected a float (N, C, H, W) batch, got {tuple(images.shape)} {images.dtype}")
    n, _, height, width = images.shape
    if len(params) != n:
        raise ValueError(f"{len(params)} rows of augmentation parameters for a batch of {n} images")
    device = images.device
    p = params.padding
    flip, dy, dx, erase = (t.to(device) for t in (params.flip, params.dy, params.dx, params.erase))

    padded = F.pad(images, (p, p, p, p)) if p else images
    rows = torch.arange(height, device=device)[None, :] + dy[:, None]  # (N, H) rows of the padded image
    cols = torch.arange(width, device=device)[None, :] + dx[:, None]  # (N, W)
    # Flip before padding and cropping = read the padded image mirrored: column k -> W + 2p - 1 - k.
    cols = torch.where(flip[:, None], width + 2 * p - 1 - cols, cols)
    batch = torch.arange(n, device=device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)

    ys = torch.arange(height, device=device)[None, :, None]
    xs = torch.arange(width, device=device)[None, None, :]
    y0, x0, y1, x1 = (erase[:, k, None, None] for k in range(4))
    inside = (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)  # (N, H, W)
    out = out.masked_fill(inside[:, None], 0)

    nhwc = images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous()
    return out.contiguous(memory_format=torch.channels_last if nhwc else torch.contiguous_format)
