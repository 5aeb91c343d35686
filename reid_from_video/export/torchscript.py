"""TorchScript export: the eval-mode network traced on a CPU example batch, frozen, saved.

The trace records the eval forward (BN-neck feature, L2-normalised), whose shapes depend on the batch only
through the batch axis, so the file takes any batch size. Freezing inlines the weights and folds each
BatchNorm into its convolution (``torch.jit.freeze``): faster on a CPU, the same features to ~1e-7.
torch >= 2.9 marks ``torch.jit`` deprecated (it still works); those warnings are silenced here.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from reid_from_video.export.errors import ExportError


def export_torchscript(model: Any, example: Any, path: Path, freeze: bool = True) -> Path:
    """Trace ``model`` (a ReidNet in eval mode, on the CPU) on ``example`` (N x 3 x H x W) into ``path``."""
    import torch

    model = model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated in torch >= 2.9
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.trace(model, example, check_trace=False)
            if freeze:
                traced = torch.jit.freeze(traced)
            traced.save(str(path))
    except (RuntimeError, TypeError, ValueError) as error:  # an operation the tracer cannot record
        raise ExportError(path, f"TorchScript export failed: {error}") from None
    return path
