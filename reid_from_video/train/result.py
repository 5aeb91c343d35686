"""What ``rfv train`` did: ``train_report.json`` in the train folder (the per-epoch and per-step figures are
the CSV logs beside it, epochs.csv and steps.csv)."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.embed.gate import AppearanceGate
from reid_from_video.io.results import StageResult, omitted_when_none

UNTRAINED = "untrained"  # what epoch 0 is: random weights ...
PRETRAINED = "pretrained"  # ... or weights training starts from (model.init, model.weights)


@dataclass(frozen=True)
class EvalPoint:
    """The held-out scores of one evaluation, in percent (epoch 0: the untrained network)."""

    epoch: int
    mAP: float  # noqa: N815  (the name every re-ID table uses)
    rank1: float


@dataclass(frozen=True)
class TrainResult(StageResult):
    """``train_report.json``: what was trained on what, how fast, and the first and last evaluation."""

    FILE = "train_report.json"

    method: str = ""
    data: str = ""
    frames: int = 0
    units: int = 0
    cameras: int = 0
    processes: int = 1
    device: str = ""
    epochs: int = 0
    seconds: float = 0.0
    images_per_s: float | None = None
    final_loss: float | None = None
    start: str = UNTRAINED  # what epoch 0 is: untrained (random weights) or pretrained (init, weights)
    before: EvalPoint | None = omitted_when_none()
    after: EvalPoint | None = omitted_when_none()
    appearance_gate: AppearanceGate | None = omitted_when_none()  # for rfv track (the model's card)

    def summary(self) -> str:
        text = f"{self.epochs} epochs, {self.images_per_s or 0:.0f} images/s"
        if self.before is not None and self.after is not None:
            b, a = self.before, self.after
            text += (
                f"  held-out mAP {b.mAP:.1f} -> {a.mAP:.1f}, rank-1 {b.rank1:.1f} -> {a.rank1:.1f} "
                f"({self.start} -> {self.outcome})"
            )
        elif self.after is not None:
            a = self.after
            text += f"  held-out mAP {a.mAP:.1f}, rank-1 {a.rank1:.1f} ({self.outcome}; the start not scored)"
        else:  # no held-out data: what training did, without figures
            text += f"  {self.start} -> {self.outcome} (no held-out data to score them: eval_data)"
        if self.appearance_gate is not None:
            text += f"; appearance gate {self.appearance_gate.max_cosine_distance:.3f}"
        return text

    @property
    def outcome(self) -> str:
        """What training made of the start: a pretrained network is adapted, an untrained one trained."""
        return "adapted" if self.start == PRETRAINED else "trained"

    def report(self) -> str:
        """The lines ``rfv train`` prints."""
        lines = [
            f"{self.method}: {self.epochs} epochs on {self.frames} images ({self.units} tracklets, "
            f"{self.cameras} cameras) of {self.data}, {self.processes} process(es) on {self.device}, "
            f"{self.seconds:.0f} s, {self.images_per_s or 0:.0f} images/s"
        ]
        if self.final_loss is not None:
            lines.append(f"final loss {self.final_loss:.4f}")
        if self.before is not None and self.after is not None:
            b, a = self.before, self.after
            lines.append(
                f"mAP {b.mAP:.1f} -> {a.mAP:.1f}, rank-1 {b.rank1:.1f} -> {a.rank1:.1f} "
                f"(epoch {b.epoch} -> {a.epoch}: {self.start} -> {self.outcome})"
            )
        if self.appearance_gate is not None:
            g = self.appearance_gate
            lines.append(
                f"appearance gate for rfv track: {g.max_cosine_distance:.3f} (closer than "
                f"{100 * g.quantile:g}% of {g.pairs} pairs of people seen together in {g.frames} frames)"
            )
        return "\n".join(lines)
