"""Distributed training under ``torchrun`` (DDP; NCCL on GPUs, gloo on CPUs), and its helpers.

Every rank computes the losses on the *global* batch: the outputs of all ranks are gathered with autograd
(:func:`gather`), so the batch-level losses (triplet mining, CCTA) see the same batch as one process would.
Each rank then back-propagates the same loss; the gathered gradient reaching a rank's own outputs is
``world`` times its share, which DDP's gradient averaging divides out. With ``sync_bn``, batch norm uses
the global batch's statistics (:class:`GlobalBatchNorm`, which also works on CPUs, unlike torch's
SyncBatchNorm), so a 2-process run follows the 1-process run's curve up to float reordering.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from reid_from_video.core.device import resolve_device


@dataclass(frozen=True)
class Process:
    """This process in the job: rank, world size and device."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def launch_rank() -> int:
    """This process's rank as torchrun set it (0 outside torchrun), known before the job is joined."""
    return int(os.environ.get("RANK", "0"))


def start_process(device: str) -> Process:
    """Join the torchrun job when there is one (``WORLD_SIZE`` > 1), else a single process on ``device``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Process(0, 1, torch.device(resolve_device(device)))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    target = resolve_device(device)
    if target.startswith("cuda"):
        target = f"cuda:{local_rank}"
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if target.startswith("cuda") else "gloo")
    return Process(rank, world, torch.device(target))


def end_process(process: Process) -> None:
    if process.distributed and dist.is_initialized():
        dist.destroy_process_group()


def gather(tensor: torch.Tensor, process: Process) -> torch.Tensor:
    """All ranks' ``tensor`` concatenated in rank order, with autograd (the local part keeps its graph)."""
    if not process.distributed:
        return tensor
    import torch.distributed.nn.functional as dist_nn

    return torch.cat(dist_nn.all_gather(tensor.contiguous()), dim=0)


def broadcast(value: Any, process: Process) -> Any:
    """Rank 0's ``value`` (any picklable object) on every rank."""
    if not process.distributed:
        return value
    box = [value if process.main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(process: Process) -> None:
    if process.distributed:
        dist.barrier()


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm whose training statistics are those of the global batch (all ranks), for 2-d and 4-d
    input, on any device: a sum and a centred sum of squares all-reduced with autograd. Same parameters,
    buffers and state-dict keys as the BatchNorm it replaces."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() not in (2, 4):
            raise ValueError(f"expected 2-d or 4-d input, got {input.dim()}-d")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        if not self.training or not dist.is_initialized():
            return super().forward(x)
        import torch.distributed.nn.functional as dist_nn

        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        values = x.float()
        local_count = values.numel() // values.shape[1]
        count = local_count * dist.get_world_size()
        mean = dist_nn.all_reduce(values.sum(dims)) / count
        centred = values - mean.view(shape)
        var = dist_nn.all_reduce((centred * centred).sum(dims)) / count
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                momentum = self.momentum if self.momentum is not None else 0.1
                self.running_mean.lerp_(mean.detach().to(self.running_mean.dtype), momentum)
                unbiased = var.detach() * count / max(count - 1, 1)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)
                self.num_batches_tracked.add_(1)  # type: ignore[union-attr]
        y = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(x.dtype)


def global_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every BatchNorm1d/2d replaced by a :class:`GlobalBatchNorm` sharing its parameters
    and buffers (``requires_grad`` kept: the BN-neck's frozen bias stays frozen)."""
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            replacement = GlobalBatchNorm(
                child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats
            )
            replacement.to(next(child.buffers()).device)
            if child.affine:
                replacement.weight, replacement.bias = child.weight, child.bias
            replacement.running_mean, replacement.running_var = child.running_mean, child.running_var
            replacement.num_batches_tracked = child.num_batches_tracked
            replacement.train(child.training)
            setattr(module, name, replacement)
        else:
            global_batchnorm(child)
    return module
