"""Is an ultralytics weights file safe to hand to ultralytics? It unpickles ``.pt`` files with
``torch.load(weights_only=False)``, so a file can run any code when it loads (``os.system``, ``exec``).

An ultralytics checkpoint pickles its network: ultralytics and torch ``nn.Module`` classes (created with
``cls.__new__`` and given their state, never called), torch's tensor-rebuilding functions and a few plain
values (the training arguments, paths, numpy scalars). :func:`weights_problem` lists what a file's pickle
would import (:mod:`reid_from_video.core.pickles`, which runs none of it) and refuses anything beyond that:
a plain ``weights_only=True`` load would refuse every genuine ultralytics file, since it allows no model
classes. The allow-list follows ultralytics' own restricted loader (``ULTRALYTICS_SAFE_LOAD`` in
``ultralytics.nn.tasks``), which lists what its official checkpoints hold, with one rule stricter: a model
class is never called. A model definition (``.yaml``) is refused too: ultralytics evaluates parts of it as
Python. ``detector.trust_weights=true`` skips the check for a file the user trusts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reid_from_video.core.errors import InputError
from reid_from_video.core.pickles import PickledGlobal, pickled_globals

# Modules whose nn.Module classes a checkpoint may create, and those whose every class it may (the loss and
# its target assigner of a training run). Looked up in what ultralytics imported: nothing is imported by
# the name a file gives.
NETWORK_MODULES = ("torch.nn.modules.", "ultralytics.nn.")
CLASS_MODULES = ("ultralytics.utils.loss", "ultralytics.utils.tal", "ultralytics.nn.distill_model")
# Other classes of official checkpoints, by the names they are pickled under (some are renamed or moved
# since: ultralytics maps them back when it loads).
CREATED = {
    "ultralytics.nn.modules.block.Silence",  # YOLOv9e
    "ultralytics.nn.tasks.YOLOv10DetectionModel",
    "ultralytics.utils.loss.v10DetectLoss",
    # a classification model's preprocessing
    "torchvision.transforms.transforms.Compose",
    "torchvision.transforms.transforms.Normalize",
    "torchvision.transforms.transforms.Resize",
    "torchvision.transforms.transforms.CenterCrop",
    "torchvision.transforms.transforms.ToTensor",
}
# Plain values, harmless to construct with any arguments.
CALLED = {
    "ultralytics.utils.IterableSimpleNamespace",  # the training arguments
    "ultralytics.yolo.utils.IterableSimpleNamespace",  # the same, before ultralytics 8.0.44
    "types.SimpleNamespace",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib._local.PosixPath",
    "pathlib._local.WindowsPath",
    "numpy.dtype",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "torchvision.transforms.functional.InterpolationMode",  # an enum member by value
}
# getattr on a created network object: its forward methods (a fused model's forward is forward_fuse).
METHODS = {"forward", "forward_fuse"}
ENUMS = {"torchvision.transforms.functional.InterpolationMode"}
SHOWN = 5  # refused globals named in the message
MODEL_DEFINITIONS = (".yaml", ".yml")  # what ultralytics builds a network from (parse_model: eval, globals())


def weights_problem(path: str | Path) -> str | None:
    """None when ``path`` loads as an ultralytics checkpoint (or holds no pickle); else why it is refused."""
    if Path(path).suffix.lower() in MODEL_DEFINITIONS:
        return (
            "refused: a model definition, not weights: ultralytics would build an untrained network from "
            "it, running the names and expressions it holds as Python (its activation, its modules); give a "
            "trained weights file (.pt)"
        )
    try:
        found = pickled_globals(path)
    except InputError as error:
        return f"refused: {error.problem}"
    refused = _refused(found) if found else []
    if not refused:
        return None
    named = ", ".join(str(item) for item in refused[:SHOWN]) + (" ..." if len(refused) > SHOWN else "")
    return (
        f"refused: loading it would import {named}, which an ultralytics checkpoint never needs (a .pt is a "
        "pickle that ultralytics loads with weights_only=False: it could run code)"
    )


def _refused(found: list[PickledGlobal]) -> list[PickledGlobal]:
    import ultralytics.nn.tasks  # noqa: F401 - the model, loss and assigner classes a checkpoint names
    import ultralytics.utils.loss  # noqa: F401
    import ultralytics.utils.tal  # noqa: F401
    from torch._weights_only_unpickler import _get_allowed_globals

    allowed = _get_allowed_globals()  # torch's own weights_only allow-list: tensors, storages, dtypes
    return [item for item in found if not _allowed(item, allowed)]


def _allowed(item: PickledGlobal, torch_allowed: dict[str, object]) -> bool:
    name = item.full_name
    if name == "builtins.getattr":  # each call is recorded apart, with what it reads (item.of)
        return not item.called or _getattr_allowed(item)
    if name in torch_allowed or name in CALLED:
        return True
    return not item.called and (name in CREATED or _model_class(item.module, item.name))


def _getattr_allowed(item: PickledGlobal) -> bool:
    """A method of a network class or object, or an enum member; nothing private."""
    if not item.of or item.attribute.startswith("__"):
        return False
    if item.of.endswith("()"):  # a bound method of an object the pickle created
        module, _, name = item.of[:-2].rpartition(".")
        return item.attribute in METHODS and _model_class(module, name)
    module, _, name = item.of.rpartition(".")
    return item.of in ENUMS or _model_class(module, name)


def _model_class(module: str, name: str) -> bool:
    """Whether ``module.name`` is an ``nn.Module`` class of torch or ultralytics, or a class of the training
    loss modules (looked up in the loaded modules, never imported)."""
    import torch

    network = module.startswith(NETWORK_MODULES)
    if not (network or module in CLASS_MODULES) or module not in sys.modules:
        return False
    value = vars(sys.modules[module]).get(name)  # no module __getattr__: no lazy import
    if not isinstance(value, type):
        return False
    return issubclass(value, torch.nn.Module) if network else value.__module__ == module
