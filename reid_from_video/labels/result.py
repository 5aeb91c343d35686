"""What ``rfv label`` made and how good it is: ``label_report.json`` in the label folder."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid_from_video.io.results import StageResult, omitted_when_none


@dataclass(frozen=True)
class Association:
    """TMC's association of the (sub-)tracklets: DBSCAN's eps and what it made."""

    eps: float | None = None
    clusters: int = 0
    unclustered: int = 0
    graph_entries: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Duplication:
    """SSTT's per-camera duplication against gt identities (``period_s`` in a sweep row)."""

    period_s: float | None = omitted_when_none()
    labels: int = 0
    labels_known: int = 0
    labels_unknown: int = 0
    duplicated_labels: int = 0
    rate: float | None = None
    identities: int = 0
    duplicated_identities: int = 0
    identity_rate: float | None = None
    per_camera: dict[str, Duplication] | None = omitted_when_none()


@dataclass(frozen=True)
class TrackletNoise:
    """rSW / rFM, tracklet count and TMC noise ratio of a set of (sub-)tracklets."""

    tracklets: int = 0
    rsw: float | None = None
    rfm: float | None = None
    noise_ratio_pct: float | None = None
    q_histogram: dict[str, int] = field(default_factory=dict)
    frames_dropped: int | None = omitted_when_none()  # after isolation


@dataclass(frozen=True)
class LabelScores:
    """Purity, NMI, ARI and counts of the labelled frames against their identities."""

    labels: int = 0
    identities_labelled: int = 0
    identities: int = 0
    frames: int = 0
    frames_labelled: int = 0
    labelled_share: float | None = None
    frames_without_gt: int = 0
    purity: float | None = None
    pure_share: float | None = None
    nmi: float | None = None
    ari: float | None = None


@dataclass(frozen=True)
class LabelQuality:
    """The labels against ground truth; only ``ground_truth: false`` when no crop has a gt id."""

    ground_truth: bool = False
    gt_scope: str | None = omitted_when_none()
    tracklets_in: TrackletNoise | None = omitted_when_none()
    after_isolation: TrackletNoise | None = omitted_when_none()
    labels: LabelScores | None = omitted_when_none()


@dataclass(frozen=True)
class LabelResult(StageResult):
    """``label_report.json``: the method, what it made (SSTT: duplication; TMC: association) and quality."""

    FILE = "label_report.json"

    store: str = ""
    method: str = ""
    index_rows: int = 0
    tracklets: int = 0
    duplication: Duplication | None = omitted_when_none()
    duplication_sweep: tuple[Duplication, ...] | None = omitted_when_none()
    association: Association | None = omitted_when_none()
    features: str | None = omitted_when_none()  # TMC: where the frame features came from
    labels: int = 0
    quality: LabelQuality = field(default_factory=LabelQuality)
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"{self.labels} labels from {self.tracklets} tracklets"
        scores = self.quality.labels
        if scores is not None and scores.purity is not None and scores.ari is not None:
            text += f"  purity {scores.purity:.3f}  ARI {scores.ari:.3f}"
        return text
