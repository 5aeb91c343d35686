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
EXPECTED = "rfv train's model.pt (or its checkpoint.pt)"  # what a command reading a checkpoint takes


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
        problem = f"cannot read as a checkpoint: {unloadable(path, error)}; expected {EXPECTED}"
        raise InputError(path, problem) from None
    if not isinstance(content, dict) or "model" not in content:
        raise InputError(path, f"not a reid_from_video checkpoint (no model config); expected {EXPECTED}")
    return content


def unloadable(path: Path, error: Exception) -> str:
    """What the file is that ``torch.load(weights_only=True)`` failed on with ``error``, in words (torch's
    own message advises ``weights_only=False``, which would run the file's code)."""
    if path.suffix.lower() == ".onnx" or _is_onnx(path):
        return "it is an ONNX model (exported already), not a PyTorch file"
    problem = pickle_problem(path)
    if problem is not None:
        return problem
    with path.open("rb") as handle:
        zipped = handle.read(4) == b"PK\x03\x04"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"a damaged PyTorch file ({first})" if zipped else "not a file that torch.save wrote"


def pickle_problem(path: Path) -> str | None:
    """Why ``torch.load(weights_only=True)`` refuses ``path`` for what its pickle imports, found without
    loading it; None when it imports only tensors and plain values (or is no pickle)."""
    from torch._weights_only_unpickler import _get_allowed_globals

    from reid_from_video.core.pickles import pickled_globals

    try:
        found = pickled_globals(path)
    except InputError as error:
        return error.problem
    allowed = _get_allowed_globals()
    refused = [str(item) for item in found if item.full_name not in allowed]
    if not refused:
        return None
    named = ", ".join(refused[:5]) + (" ..." if len(refused) > 5 else "")
    return f"its pickle imports {named}: more than tensors and plain values (not loaded: nothing ran)"


def _is_onnx(path: Path) -> bool:
    import onnx

    try:
        return len(onnx.load(str(path), load_external_data=False).graph.node) > 0
    except Exception:  # protobuf decode errors of every kind: not an ONNX file
        return False


def model_content(model_config: dict[str, Any], state_dict: dict[str, torch.Tensor], training: dict) -> dict:
    """The final model file's content (what ``rfv export`` and ``ReidModel.load`` read)."""
    return {"format": FORMAT, "model": model_config, "state_dict": state_dict, "training": training}
