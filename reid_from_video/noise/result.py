"""What ``rfv mot-eval`` measured: ``summary.json`` in the mot-eval folder, per sequence and combined."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid_from_video.io.results import StageResult, omitted_when_none, renamed
from reid_from_video.noise.cross_camera import CrossCameraScores

COMBINED = "COMBINED"


@dataclass(frozen=True)
class NoiseSummary:
    """The TMC paper's tracklet noise (see :class:`reid_from_video.noise.rfm_rsw.NoiseRates`); histogram
    keys are strings, as JSON has them."""

    rfm: float | None = None
    rsw: float | None = None
    tracklets: int = 0
    tracklets_matched: int = 0
    gt_ids: int = 0
    gt_ids_matched: int = 0
    unmatched_gt_share: float | None = None
    q_histogram: dict[str, int] = field(default_factory=dict)
    fm_histogram: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SequenceInput:
    gt_file: str = ""
    result_file: str = ""
    distractor_matches_removed: int = 0
    warnings: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SequenceScores:
    """The figures of one sequence, or of all combined (no ``input`` then): CLEAR MOT and identity
    (motmetrics' names, MOTP as mean IoU), HOTA (TrackEval's names; absent with hota=false) and noise."""

    noise: NoiseSummary = field(default_factory=NoiseSummary)
    input: SequenceInput | None = omitted_when_none()
    hota: dict[str, float | None] | None = omitted_when_none()
    clear: dict[str, float | None] = field(default_factory=dict)
    cross_camera: CrossCameraScores | None = omitted_when_none()  # COMBINED only, with cross_camera set

    def value(self, section: str, key: str) -> float | None:
        """One figure by (section, key): the cells of the mot-eval table (``TABLE_COLUMNS``)."""
        if section == "noise":
            number = getattr(self.noise, key, None)
            return None if number is None else float(number)
        return (self.hota or {}).get(key) if section == "hota" else self.clear.get(key)


@dataclass(frozen=True)
class MotEvalResult(StageResult):
    """``summary.json``: every sequence's scores, the combined ones, and the input warnings."""

    FILE = "summary.json"

    sequences: dict[str, SequenceScores]
    combined: SequenceScores = renamed(COMBINED, default_factory=SequenceScores)
    warnings: tuple[str, ...] = ()
    warning_counts: dict[str, int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, SequenceScores]]:
        """(name, scores) of every sequence, then ``COMBINED``."""
        return [*self.sequences.items(), (COMBINED, self.combined)]

    def summary(self) -> str:
        c = self.combined
        text = (
            f"MOTA {100 * (c.clear.get('mota') or 0):.1f}  IDF1 {100 * (c.clear.get('idf1') or 0):.1f}  "
            f"rFM {c.noise.rfm or 0:.2f}  rSW {c.noise.rsw or 0:.2f}"
        )
        if c.cross_camera is not None:
            x = c.cross_camera
            text += f"  across cameras: IDF1 {100 * x.idf1:.1f}  rFM {x.rfm or 0:.2f}  rSW {x.rsw or 0:.2f}"
        return text
