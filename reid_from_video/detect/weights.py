"""Is an ultralytics weights file safe to hand to ultralytics? It unpickles ``.pt`` files with
``torch.load(weights_only=False)``, so a file can run any code when it loads (``os.system``, ``exec``).

An ultralytics checkpoint pickles its network: ultralytics and torch ``nn.Module`` classes (created with
``cls.__new__`` and given their state, never called), torch's tensor-rebuilding functions and a few plain
containers. :func:`weights_problem` lists what a file's pickle would import
(:mod:`reid_from_video.core.pickles`, which runs none of it) and refuses anything beyond that: a plain
``weights_only=True`` load would refuse every genuine ultralytics file, since it allows no model classes.
``detector.trust_weights=true`` skips the check for a file the user trusts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reid_from_video.core.errors import InputError
from reid_from_video.core.pickles import PickledGlobal, pickled_globals

# Modules whose nn.Module classes a checkpoint may create (already imported by ultralytics itself: nothing
# is imported by the name a file gives).
NETWORK_MODULES = ("torch.nn.modules.", "ultralytics.nn.")
# Plain classes a checkpoint holds (a training run's arguments), harmless to call.
PLAIN_CLASSES = {"ultralytics.utils.IterableSimpleNamespace", "types.SimpleNamespace"}
SHOWN = 5  # refused globals named in the message


def weights_problem(path: str | Path) -> str | None:
    """None when ``path`` loads as an ultralytics checkpoint (or holds no pickle); else why it is refused."""
    try:
        found = pickled_globals(path)
    except InputError as error:
        return f"refused: {error.problem}"
    if not found:
        return None
    refused = _refused(found)
    if not refused:
        return None
    named = ", ".join(str(item) for item in refused[:SHOWN]) + (" ..." if len(refused) > SHOWN else "")
    return (
        f"refused: loading it would import {named}, which an ultralytics checkpoint never needs (a .pt is a "
        "pickle that ultralytics loads with weights_only=False: it could run code)"
    )


def _refused(found: list[PickledGlobal]) -> list[PickledGlobal]:
    import ultralytics.nn.tasks  # noqa: F401 - the network classes a checkpoint names, by module
    from torch._weights_only_unpickler import _get_allowed_globals

    allowed = _get_allowed_globals()  # torch's own weights_only allow-list: tensors, storages, dtypes
    return [
        item
        for item in found
        if f"{item.module}.{item.name}" not in allowed
        and f"{item.module}.{item.name}" not in PLAIN_CLASSES
        and not (not item.called and _network_class(item))
    ]


def _network_class(item: PickledGlobal) -> bool:
    """Whether ``item`` names an ``nn.Module`` class of torch or ultralytics (looked up, never imported)."""
    import torch

    if not item.module.startswith(NETWORK_MODULES) or item.module not in sys.modules:
        return False
    value = vars(sys.modules[item.module]).get(item.name)  # no module __getattr__: no lazy import
    return isinstance(value, type) and issubclass(value, torch.nn.Module)
