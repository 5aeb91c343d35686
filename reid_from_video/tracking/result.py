"""What ``rfv track`` did: ``summary.json`` in the track folder (per camera counts and times, totals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from reid_from_video.io.results import StageResult, omitted_when_none


@dataclass(frozen=True)
class CameraResult:
    """One camera tracked: its counts, time and the time of each tracking step (read, detect, ...)."""

    camera: str
    frames: int = 0
    detections: int = 0
    crops: int = 0
    boxes: int = 0
    tracks: int = 0
    seconds: float = 0.0
    frames_per_s: float | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_frames_per_s: dict[str, float] = field(default_factory=dict)
    appearance_gate: float | None = omitted_when_none()  # the gate of appearance matches; None: no features
    gate_source: str | None = omitted_when_none()  # where it came from: the model card, or the config


@dataclass(frozen=True)
class TrackTotals:
    cameras: int = 0
    frames: int = 0
    detections: int = 0
    boxes: int = 0
    tracks: int = 0
    crops: int = 0
    seconds: float | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackResult(StageResult):
    """``summary.json``: the cameras tracked by this call, those already complete, and the totals; and the
    whole folder's: the results of its cameras tracked by earlier calls, and the totals of all of them."""

    FILE = "summary.json"

    input: str = ""
    cameras: tuple[CameraResult, ...] = ()
    skipped_complete: tuple[str, ...] = ()
    totals: TrackTotals = field(default_factory=TrackTotals)
    earlier: tuple[CameraResult, ...] = ()  # the folder's cameras complete from earlier calls
    store_totals: TrackTotals = field(default_factory=TrackTotals)  # cameras and earlier together

    @classmethod
    def of(
        cls,
        path: str,
        cameras: list[CameraResult],
        skipped: list[str],
        seconds: float,
        earlier: Sequence[CameraResult] = (),
    ) -> TrackResult:
        """The result of tracking ``cameras`` (``skipped``: complete from an earlier call; ``earlier``: the
        results of the folder's other complete cameras)."""
        everything = [*cameras, *earlier]
        store_seconds = sum(c.seconds for c in everything)
        return cls(
            path, tuple(cameras), tuple(skipped), _totals(cameras, seconds), tuple(earlier),
            _totals(everything, store_seconds),
        )  # fmt: skip

    def summary(self) -> str:
        t = self.totals
        lines = [
            f"{t.cameras} camera(s) tracked, {len(self.skipped_complete)} already complete: "
            f"{t.frames} frames, {t.detections} detections, {t.tracks} tracks, {t.boxes} boxes, "
            f"{t.crops} crops in {t.seconds or 0.0:.1f} s"
        ]
        if self.earlier:
            s = self.store_totals
            lines.append(
                f"the folder: {s.cameras} camera(s), {s.frames} frames, {s.tracks} tracks, {s.boxes} boxes, "
                f"{s.crops} crops"
            )
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in t.stage_seconds.items())
        if steps:
            lines.append(f"time per stage: {steps}")
        return "\n".join(lines)


def _totals(cameras: Sequence[CameraResult], seconds: float) -> TrackTotals:
    stage_seconds: dict[str, float] = {}
    for camera in cameras:
        for step, spent in camera.stage_seconds.items():
            stage_seconds[step] = stage_seconds.get(step, 0.0) + spent
    return TrackTotals(
        cameras=len(cameras),
        frames=sum(c.frames for c in cameras),
        detections=sum(c.detections for c in cameras),
        boxes=sum(c.boxes for c in cameras),
        tracks=sum(c.tracks for c in cameras),
        crops=sum(c.crops for c in cameras),
        seconds=seconds,
        stage_seconds=stage_seconds,
    )
