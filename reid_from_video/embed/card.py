"""The model card: a JSON file beside a model (``<file>.json``) saying how it wants its input and what it is.

Known fields (:class:`ModelCard`): ``input_size`` [height, width], ``mean``, ``std`` (of 0..1 pixels),
``colour`` (channel order, RGB or BGR), ``feature_dim``, ``appearance_gate`` (the tracker's gate,
calibrated on the cameras the model was trained on: :mod:`reid_from_video.embed.gate`). Everything else
(format, training method and data, metrics, parity figures, opset, versions) is kept as it is in
:attr:`ModelCard.extra`. Never imports torch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reid_from_video.core.atomic import write_json
from reid_from_video.core.errors import InputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ModelCard:
    """How a model wants its input, and what it is. Written as JSON beside an exported model."""

    input_size: tuple[int, int] = (256, 128)  # height, width
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    colour: str = "RGB"  # channel order the model expects
    feature_dim: int | None = None
    appearance_gate: float | None = None  # calibrated max cosine distance of a track match (rfv train)
    extra: dict[str, Any] = field(default_factory=dict)  # training method, data, metrics, ...

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise InputError(path, f"cannot read the model card: {error}") from None
        if not isinstance(data, dict):
            raise InputError(path, "a model card must be a JSON object")
        known = {k: data.pop(k) for k in list(data) if k in cls.__dataclass_fields__ and k != "extra"}
        try:
            card = cls(**known, extra=data)
            card.input_size = (int(card.input_size[0]), int(card.input_size[1]))
            if card.appearance_gate is not None:
                card.appearance_gate = float(card.appearance_gate)
        except (TypeError, ValueError, IndexError) as error:
            raise InputError(path, f"bad model card: {error}") from None
        if card.colour not in ("RGB", "BGR"):
            raise InputError(path, f"colour must be RGB or BGR, not {card.colour!r}")
        if card.appearance_gate is not None and not 0.0 < card.appearance_gate <= 2.0:
            raise InputError(
                path, f"appearance_gate must be a cosine distance in (0, 2], not {card.appearance_gate}"
            )
        return card

    @classmethod
    def from_model_config(
        cls,
        config: Mapping[str, Any],
        feature_dim: int | None,
        appearance_gate: float | None = None,
        **extra: Any,
    ) -> ModelCard:
        """The card of a network from its ``ModelConfig`` dict (a checkpoint's ``"model"``)."""
        height, width = config.get("input_size", (256, 128))
        return cls(
            input_size=(int(height), int(width)),
            mean=tuple(float(v) for v in config.get("mean", IMAGENET_MEAN)),  # type: ignore[arg-type]
            std=tuple(float(v) for v in config.get("std", IMAGENET_STD)),  # type: ignore[arg-type]
            colour=str(config.get("colour", "RGB")),
            feature_dim=feature_dim,
            appearance_gate=appearance_gate,
            extra=dict(extra),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the known fields first, then :attr:`extra`."""
        known = {
            "input_size": list(self.input_size),
            "mean": list(self.mean),
            "std": list(self.std),
            "colour": self.colour,
            "feature_dim": self.feature_dim,
        }
        if self.appearance_gate is not None:
            known["appearance_gate"] = self.appearance_gate
        return {**known, **{k: v for k, v in self.extra.items() if k not in known}}

    def write(self, path: Path) -> Path:
        """Write the card to ``path`` (atomically)."""
        write_json(path, self.to_dict())
        return path


def card_path(model_path: Path) -> Path:
    """Where the card of ``model_path`` lives: ``<file>.json`` (``model.onnx`` -> ``model.onnx.json``)."""
    return model_path.with_name(model_path.name + ".json")
