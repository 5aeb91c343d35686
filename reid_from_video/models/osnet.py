"""OSNet, the omni-scale re-ID network: Zhou et al., "Omni-Scale Feature Learning for Person
Re-Identification", ICCV 2019 (and torchreid, the authors' code, whose module names are kept here so its
state dicts load as they are).

The network (``N x 3 x 256 x 128`` in, stride 16):

* ``conv1``: 7x7 conv, stride 2, BN, ReLU; ``maxpool``: 3x3, stride 2.
* ``conv2``, ``conv3``, ``conv4``: two :class:`OSBlock` each; ``conv2`` and ``conv3`` end with a transition
  (1x1 conv-BN-ReLU, then 2x2 average pooling, stride 2); ``conv4`` has none.
* ``conv5``: 1x1 conv-BN-ReLU; ``global_avgpool``; ``fc``: Linear(C, 512), BatchNorm1d, ReLU. Its 512-d
  output is OSNet's re-ID feature. torchreid's ``classifier`` (Linear(512, K)) is not part of this module:
  identity classifiers are :mod:`reid_from_video.models.heads`.

An :class:`OSBlock` (a residual bottleneck) reduces to ``C / 4`` channels (``conv1``), runs four streams of
1, 2, 3 and 4 :class:`LightConv3x3` (``conv2a`` .. ``conv2d``: receptive fields 3, 5, 7, 9), weighs each
stream's channels with one shared :class:`ChannelGate` (``gate``: global pooling, a 1x1 conv to ``C / 16``,
ReLU, a 1x1 conv back, sigmoid) and sums them, expands back with a linear 1x1 conv-BN (``conv3``) and adds
the input (through a linear 1x1 conv-BN ``downsample`` where the widths differ), then ReLU. A
:class:`LightConv3x3` is a linear 1x1 conv followed by a depthwise 3x3 conv, BN and ReLU.

Variants differ in width (the channels of conv1 and of conv2, conv3, conv4):
``x1_0`` 64, 256, 384, 512 (2.2 M parameters without classifier), ``x0_75`` 48, 192, 288, 384 (1.3 M),
``x0_5`` 32, 128, 192, 256 (0.6 M), ``x0_25`` 16, 64, 96, 128 (0.2 M). All give a 512-d feature.

As a backbone (:mod:`reid_from_video.models.backbones`), :class:`OSNet` returns its ``fc`` feature as an
``N x 512 x 1 x 1`` map: OSNet pools inside (as published), so the network's own pooling (``avg``) leaves it
as it is, and a :class:`~reid_from_video.models.ReidNet` on it gives OSNet's feature, L2-normalised, in eval
mode.
"""

from __future__ import annotations

import torch
from torch import nn

from reid_from_video.models.config import OSNET_WIDTHS

FEATURE_DIM = 512
BLOCKS_PER_STAGE = 2
GATE_REDUCTION = 16
BOTTLENECK_REDUCTION = 4


class ConvLayer(nn.Module):
    """Conv (no bias), BN, and ReLU unless ``linear`` (torchreid's ConvLayer, Conv1x1, Conv1x1Linear)."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 1, stride: int = 1, padding: int = 0, linear: bool = False
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.Identity() if linear else nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class LightConv3x3(nn.Module):
    """A linear 1x1 conv, then a depthwise 3x3 conv, BN, ReLU."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False, groups=cout)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """Per-channel weights in (0, 1) from the globally pooled input (squeeze-and-excitation)."""

    def __init__(self, channels: int, reduction: int = GATE_REDUCTION) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
        self.gate_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.gate_activation(self.fc2(self.relu(self.fc1(self.global_avgpool(x)))))
        return x * weights


class OSBlock(nn.Module):
    """The omni-scale residual bottleneck (see the module docstring)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        mid = cout // BOTTLENECK_REDUCTION
        self.conv1 = ConvLayer(cin, mid)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(2)))
        self.conv2c = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(3)))
        self.conv2d = nn.Sequential(*(LightConv3x3(mid, mid) for _ in range(4)))
        self.gate = ChannelGate(mid)
        self.conv3 = ConvLayer(mid, cout, linear=True)
        self.downsample = ConvLayer(cin, cout, linear=True) if cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = self.conv1(x)
        # torchreid's call order (streams, gates, conv3, downsample), which exported graphs follow.
        streams = [stream(reduced) for stream in (self.conv2a, self.conv2b, self.conv2c, self.conv2d)]
        expanded = self.conv3(sum(self.gate(stream) for stream in streams))
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.relu(expanded + shortcut)


def _stage(cin: int, cout: int, transition: bool) -> nn.Sequential:
    blocks: list[nn.Module] = [OSBlock(cin, cout)]
    blocks += [OSBlock(cout, cout) for _ in range(BLOCKS_PER_STAGE - 1)]
    if transition:
        blocks.append(nn.Sequential(ConvLayer(cout, cout), nn.AvgPool2d(2, stride=2)))
    return nn.Sequential(*blocks)


class OSNet(nn.Module):
    """OSNet without its classifier; ``forward`` gives the ``N x 512 x 1 x 1`` feature (module docstring)."""

    def __init__(self, widths: tuple[int, int, int, int], feature_dim: int = FEATURE_DIM) -> None:
        super().__init__()
        stem, c2, c3, c4 = widths
        self.conv1 = ConvLayer(3, stem, 7, stride=2, padding=3)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = _stage(stem, c2, transition=True)
        self.conv3 = _stage(c2, c3, transition=True)
        self.conv4 = _stage(c3, c4, transition=False)
        self.conv5 = ConvLayer(c4, c4)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(c4, feature_dim), nn.BatchNorm1d(feature_dim), nn.ReLU(inplace=True)
        )
        self._init_weights()

    def _init_weights(self) -> None:
        """torchreid's initialisation: Kaiming-normal (fan-out) convolutions, unit BN, N(0, 0.01) linear."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        feature = self.fc(self.global_avgpool(x).flatten(1))
        return feature[:, :, None, None]


def osnet(name: str) -> OSNet:
    """The randomly initialised OSNet variant ``name`` (a key of :data:`OSNET_WIDTHS`)."""
    return OSNet(OSNET_WIDTHS[name])
