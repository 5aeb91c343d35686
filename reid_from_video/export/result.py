"""What ``rfv export`` wrote: ``export.json`` in the export folder (per format: the file, its model card, its
size and its parity with the PyTorch network)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid_from_video.io.results import StageResult, omitted_when_none


@dataclass(frozen=True)
class ParityFigures:
    """The exported model's features against PyTorch's on the parity crops."""

    rows: int = 0
    max_abs_diff: float | None = None
    min_cosine: float | None = None
    mean_cosine: float | None = None


@dataclass(frozen=True)
class ExportedModel:
    """One exported file; ``opset``, ``ir_version`` and ``exporter`` for ONNX, ``freeze`` for TorchScript."""

    file: str
    card: str = ""
    bytes: int = 0
    export_seconds: float = 0.0
    parity: ParityFigures = field(default_factory=ParityFigures)
    opset: int | None = omitted_when_none()
    ir_version: int | None = omitted_when_none()
    exporter: str | None = omitted_when_none()
    freeze: bool | None = omitted_when_none()


@dataclass(frozen=True)
class ExportResult(StageResult):
    """``export.json``: the checkpoint exported, the parity crops, and every format written."""

    FILE = "export.json"

    checkpoint: str = ""
    parity_crops: str = ""
    formats: dict[str, ExportedModel] = field(default_factory=dict)

    def files(self) -> list[str]:
        """Every model file and its card."""
        return [path for row in self.formats.values() for path in (row.file, row.card)]

    def summary(self) -> str:
        return ", ".join(
            f"{row.file} (cosine {row.parity.min_cosine or 0:.6f})" for row in self.formats.values()
        )

    def report(self) -> str:
        """The table ``rfv export`` prints."""
        lines = [f"{self.checkpoint}: parity on {self.parity_crops} crops (CPU)"]
        lines.append(
            f"{'format':<12} {'max abs diff':>12} {'min cosine':>12} {'MiB':>8} {'export s':>9}  file"
        )
        for fmt, row in self.formats.items():
            p = row.parity
            lines.append(
                f"{fmt:<12} {p.max_abs_diff or 0:>12.3g} {p.min_cosine or 0:>12.8f} "
                f"{row.bytes / 2**20:>8.1f} {row.export_seconds:>9.1f}  {row.file}"
            )
        return "\n".join(lines)
