"""The PyTorch network behind an export: a ``model.pt`` (or ``checkpoint.pt``) written by ``rfv train``, read
safely (``torch.load(weights_only=True)``) and rebuilt without its classifier, in eval mode; or a pretrained
network file ``train.model.init`` takes (OSNet ONNX, OSNet / ResNet state dict), built as training starts.

``model.pt`` holds ``{"format", "model": ModelConfig dict, "state_dict", "training"}``. ``checkpoint.pt`` (the
whole training state, to resume) holds ``"modules"``; its kept network is taken: TMC's Mean Net
(``mean_net``), else ``net``. A ``.pt`` can also be a TorchScript archive: :func:`is_torchscript` tells them
apart by content.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.embed.card import ModelCard

KEPT_MODULES = ("mean_net", "net")  # in a training checkpoint: the network a run keeps (see train/*.py)
TRAIN_REPORT = "train_report.json"


@dataclass
class Source:
    """A network read from a checkpoint file, with what the file says about its training."""

    path: Path
    model: Any  # a ReidNet in eval mode on the CPU, without classifier
    config: dict[str, Any]  # the ModelConfig dict
    training: dict[str, Any]  # method, data, epochs, metrics (when the file has them)

    def card(self, **extra: Any) -> ModelCard:
        """The model card of this network (preprocessing from its config, the appearance gate its training
        calibrated), ``extra`` added."""
        gate = (self.training.get("appearance_gate") or {}).get("max_cosine_distance")
        return ModelCard.from_model_config(self.config, self.model.feature_dim, gate, **extra)


def is_torchscript(path: Path) -> bool:
    """True for a TorchScript archive (a zip with ``constants.pkl`` or ``code/``); False for anything else,
    e.g. a ``torch.save`` checkpoint (a zip with only ``data.pkl`` and ``data/``, or the legacy format)."""
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    parts = (name.split("/", 1)[-1] for name in names)  # entries sit under one top folder
    return any(part == "constants.pkl" or part.startswith("code/") for part in parts)


def read_source(path: str | Path) -> Source:
    """The network of a ``model.pt`` / ``checkpoint.pt``; one :class:`InputError` naming the file when it is
    not one (a TorchScript file, a bare state dict, a pickle that needs more than weights_only allows)."""
    from reid_from_video.core import checkpoint
    from reid_from_video.core.checkpoint import EXPECTED
    from reid_from_video.models.architecture import init_architecture
    from reid_from_video.models.backbones import require_finite
    from reid_from_video.models.reid_net import model_from_state

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "checkpoint file not found")
    if is_torchscript(path):
        raise InputError(
            path, f"a TorchScript model, not a checkpoint: it is exported already; expected {EXPECTED}"
        )
    if path.suffix.lower() == ".onnx":
        architecture = init_architecture(path)
        if architecture is None:
            raise InputError(
                path, f"an ONNX model, not a checkpoint: it is exported already; expected {EXPECTED}"
            )
        return _pretrained(path, architecture)
    try:
        content = checkpoint.load(path)  # weights_only=True; InputError naming the file when not one
    except InputError:
        architecture = init_architecture(path)
        if architecture is None:
            raise
        return _pretrained(path, architecture)
    state = _state_dict(path, content)
    require_finite(state, path)
    try:
        model = model_from_state(content["model"], state, classifier=False)
    except (ConfigError, RuntimeError, ValueError, KeyError, TypeError) as error:  # bad config, keys, shapes
        raise InputError(path, f"the state dict does not fit its model config: {error}") from None
    model = model.float().cpu().eval()
    training = dict(content.get("training") or {})
    report = _train_report(path)
    if report is not None:
        training.setdefault("report", report)
    return Source(path, model, dict(content["model"]), training)


def _pretrained(path: Path, architecture: str) -> Source:
    """A pretrained network file that ``train.model.init`` takes (an OSNet ONNX file, a torchreid / boxmot
    OSNet or torchvision ResNet state dict), built as training would start from it: exporting it gives
    that network with a dynamic batch axis (an OSNet ONNX file may have a fixed batch of 1)."""
    from reid_from_video.core.config import config_to_dict
    from reid_from_video.models.config import ModelConfig
    from reid_from_video.models.reid_net import build_model

    config = ModelConfig(backbone=architecture, init=str(path))
    model = build_model(config).float().cpu().eval()
    return Source(path, model, config_to_dict(config), {"method": "pretrained", "init": str(path)})


def _state_dict(path: Path, content: dict[str, Any]) -> dict[str, Any]:
    if "state_dict" in content:
        return content["state_dict"]
    modules = content.get("modules")
    if isinstance(modules, dict):
        for name in KEPT_MODULES:
            if name in modules:
                return modules[name]
    raise InputError(path, "a checkpoint without a state dict (no 'state_dict', no 'modules' net)")


def _train_report(path: Path) -> dict[str, Any] | None:
    """``train_report.json`` beside the checkpoint (``rfv train``'s summary), when readable."""
    report = path.with_name(TRAIN_REPORT)
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def metrics_of(training: dict[str, Any]) -> dict[str, Any] | None:
    """The last evaluation figures known for a training run (mAP, rank-1, ...), or None."""
    if isinstance(training.get("metrics"), dict):
        return training["metrics"]
    after = (training.get("report") or {}).get("after")
    return after if isinstance(after, dict) else None
