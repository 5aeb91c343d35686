"""Report section of the exported model: export/export.json (per format: file, size, parity with the
PyTorch network) and the model cards beside the model files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reid_from_video.io.results import JsonObject
from reid_from_video.report.context import Context
from reid_from_video.report.html import (
    DASH,
    count,
    fmt,
    join,
    key_values,
    note,
    number,
    seconds,
    size,
    table,
    tag,
)


def fmt_sci(value: Any) -> str:
    """A small number in scientific notation (``1.5e-07``); missing: a dash."""
    v = number(value)
    return DASH if v is None else f"{v:.1e}"


CARD_FIELDS = ("format", "file", "input_size", "mean", "std", "colour", "feature_dim", "opset", "created")


def _card_pairs(model_card: JsonObject) -> list[tuple[str, Any]]:
    """The card's main fields; its metrics (%) and training method on one line each."""
    pairs: list[tuple[str, Any]] = [
        (k, v if isinstance(v, str) else json.dumps(v))
        for k in CARD_FIELDS
        if (v := model_card.get(k)) is not None
    ]
    if isinstance(metrics := model_card.get("metrics"), dict) and metrics:
        pairs.append(("metrics (%)", ", ".join(f"{k} {fmt(number(v))}" for k, v in metrics.items())))
    if isinstance(training := model_card.get("training"), dict):
        pairs.append(
            (
                "training",
                f"{training.get('method', DASH)} on {training.get('data', DASH)}, "
                f"{count(training.get('epochs'))} epochs",
            )
        )
    return pairs


def render_export(ctx: Context) -> list[Any]:
    """export/: export.json (per format: file, size, parity with the PyTorch network), the files, and each
    model card (<model file>.json)."""
    export = ctx.export
    if export is None:
        return [ctx.absent("export", "no exported model (ONNX / TorchScript and their model cards)")]
    folder = export.folder
    if not export.files:
        return [note(f"{folder} is empty: the export did not finish")]
    out: list[Any] = []
    summary = export.result
    if summary is not None:
        rows = []
        for name, entry in summary.formats.items():
            file = Path(entry.file)
            link = ctx.where(folder / file.name, file.name) if (folder / file.name).is_file() else file.name
            rows.append(
                [
                    name,
                    link,
                    size(entry.bytes),
                    fmt(entry.parity.min_cosine, 6),
                    fmt_sci(entry.parity.max_abs_diff),
                    seconds(entry.export_seconds),
                ]
            )
        out.append(
            table(
                ["format", "file", "size", "parity: lowest cosine", "largest difference", "export time"],
                rows,
                numeric_from=2,
            )
        )
        out.append(
            key_values(
                [
                    ("from", summary.checkpoint or DASH),
                    ("parity checked on", summary.parity_crops or DASH),
                    ("summary", ctx.where(folder / "export.json")),
                ]
            )
        )
    else:
        out.append(note(f"{folder / 'export.json'} not found: the export did not finish", "info"))
    for name, model_card in export.cards.items():
        whole = tag(
            "details", join([tag("summary", "the whole card"), tag("pre", json.dumps(model_card, indent=2))])
        )
        out += [
            tag("h3", join(["model card ", ctx.where(folder / name, name)])),
            key_values(_card_pairs(model_card)),
            whole,
        ]
    other = [(n, b) for n, b in export.files if n not in export.cards and n != "export.json"]
    if other:
        out += [
            tag("h3", "files"),
            table(["file", "size"], [[ctx.where(folder / n, n), size(b)] for n, b in other]),
        ]
    return out
