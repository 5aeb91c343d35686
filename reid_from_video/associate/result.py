"""What ``rfv associate`` did: ``associate.json`` in its folder (the journeys are journeys.csv beside it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid_from_video.io.results import StageResult


@dataclass(frozen=True)
class Transit:
    """Times between leaving one camera and entering another, over the identities that did so."""

    source: str
    target: str
    journeys: int
    median_s: float
    min_s: float
    max_s: float


@dataclass(frozen=True)
class AssociateResult(StageResult):
    """``associate.json``: what was linked, with which threshold, and the transit times it implies."""

    FILE = "associate.json"

    store: str = ""
    model: str = ""
    features: str = ""  # where the tracklet features came from
    cameras: int = 0
    tracklets: int = 0
    too_short: int = 0  # tracklets under min_frames: an identity each, never linked
    identities: int = 0
    multi_camera: int = 0  # identities seen in two or more cameras
    threshold: float = 0.0
    threshold_source: str = ""
    known_different_pairs: int = 0
    transit_source: str = "none"  # the least transit times applied: none, a topology file, or learnt
    seconds: float = 0.0
    transits: tuple[Transit, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        return (
            f"{self.identities} identities from {self.tracklets} tracklets of {self.cameras} cameras, "
            f"{self.multi_camera} seen in several cameras (threshold {self.threshold:.3f})"
        )

    def report(self) -> str:
        """The lines ``rfv associate`` prints: the summary and the transit times between cameras."""
        lines = [self.summary()]
        lines += [
            f"  {t.source} -> {t.target}: {t.journeys} identities, median {t.median_s:.1f} s "
            f"({t.min_s:.1f} .. {t.max_s:.1f})"
            for t in self.transits
        ]
        return "\n".join(lines)
