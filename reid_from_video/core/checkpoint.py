"""Checkpoint files: the whole training state after every epoch (and every ``save_every`` batches), and
the final model file. Both load with ``torch.load(weights_only=True)``: tensors, numbers, strings, lists
and dicts.

``rfv train`` writes them; ``rfv export`` and the model-file runtime read them. torch is imported only when
a file is read or written, so the ground floor stays importable without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.errors import InputError

if TYPE_CHECKING:
    import torch

CHECKPOINT_FILE = "checkpoint.pt"  # the training state, to resume
MODEL_FILE = "model.pt"  # the trained model: {"model": ModelConfig dict, "state_dict", "training"}
FORMAT = 1


def save(path: Path, content: dict[str, Any]) -> None:
    """``content`` written atomically: a reader (or a resume after a crash) never sees half of it."""
    import torch

    with atomic_write(path, "wb") as handle:
        torch.save(content, handle)


def load(path: Path) -> dict[str, Any]:
    """A checkpoint or model file, safely; one error naming the file when it is not one."""
    import torch

    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises pickle, zip and runtime errors for bad files
        raise InputError(path, f"cannot read as a checkpoint: {error}") from None
    if not isinstance(content, dict) or "model" not in content:
        raise InputError(path, "not a reid_from_video checkpoint (no model config)")
    return content


def model_content(model_config: dict[str, Any], state_dict: dict[str, torch.Tensor], training: dict) -> dict:
    """The final model file's content (what ``rfv export`` and ``ReidModel.load`` read)."""
    return {"format": FORMAT, "model": model_config, "state_dict": state_dict, "training": training}
