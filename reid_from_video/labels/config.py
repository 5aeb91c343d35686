"""The config of ``rfv label`` and of its methods (SSTT, TMC, the clustering): plain dataclasses, no
heavy imports, so that the CLI and the other stages' configs can use them cheaply."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.core.config import option, section
from reid_from_video.models.config import ModelConfig

METHODS = ("sstt", "tmc")
HISTOGRAM = "histogram"  # --model value: colour histograms of the crops, no model file
NETWORK = "network"  # --model value: the network of the model section (what rfv train starts from)
CONFLICTS = ("drop_all", "keep_longest")
NOISE_POLICIES = ("drop", "separate", "nearest")
UNCLUSTERED_POLICIES = ("drop", "own")
DISTANCES = ("jaccard", "cosine")
GT_SCOPES = ("global", "camera")
ON_DEGENERATE = ("error", "warn")
REUSE = ("auto", "always", "never")


@dataclass
class ClusterConfig:
    """How tracklet features become clusters (TMC's inter-tracklet association)."""

    distance: str = option("jaccard", "jaccard: k-reciprocal Jaccard distance (k1, k2); cosine: 1 - cos")
    k1: int = option(30, "k-reciprocal neighbourhood size (Jaccard distance)")
    k2: int = option(6, "neighbours averaged in the local query expansion (Jaccard distance)")
    eps: float = option(
        0.0, "DBSCAN radius; 0: data-dependent, the mean of the smallest rho share of all pairwise distances"
    )
    rho: float = option(
        1.6e-3, "share of the smallest pairwise distances averaged into the data-dependent eps"
    )
    min_samples: int = option(4, "DBSCAN: points within eps (itself included) that make a core point")
    scale: bool = option(
        True,
        "scale with the number N of points: k1 and k2 at most N // 5, and the data-dependent eps averages "
        "at least N * (min_samples - 1) pairs (binds on small sets only: N < 3,750 with TMC's settings); "
        "false: the values above at any N",
    )
    device: str = option("auto", "where the distances are computed: auto, cpu, cuda, cuda:1, ...")
    block: int = option(512, "distance rows computed at a time (memory: block x N)")

    def __post_init__(self) -> None:
        if self.distance not in DISTANCES:
            raise ValueError(f"distance must be one of {DISTANCES}, not {self.distance!r}")
        if self.k1 < 1 or self.k2 < 1:
            raise ValueError(f"k1 and k2 must be >= 1, got {self.k1}, {self.k2}")
        if self.eps < 0:
            raise ValueError(f"eps must be >= 0 (0: data-dependent), got {self.eps}")
        if not 0 < self.rho < 1:
            raise ValueError(f"rho must be in (0, 1), got {self.rho}")
        if self.min_samples < 1 or self.block < 1:
            raise ValueError(f"min_samples and block must be >= 1, got {self.min_samples}, {self.block}")


@dataclass
class SsttConfig:
    """The SSTT sampling settings (see the module docstring)."""

    period_s: float = option(
        10.0,
        "P: seconds between sampling instants; should exceed the time most people stay in a camera view "
        "(pedestrians crossing a view: roughly 5-20 s)",
    )
    start_s: float = option(0.0, "first instant, in seconds after the camera's first indexed time")
    min_frames: int = option(5, "tracklets with fewer index rows (crops) are never sampled")
    min_distance: float = option(
        1.0,
        "tracklets whose box centres at an instant are closer than this many box heights (the mean of "
        "the pair) are in conflict; 0 turns the spatial rule off",
    )
    conflict: str = option(
        "drop_all",
        "drop_all: no tracklet in a conflict is labelled at that instant (two close tracklets may be one "
        "person); keep_longest: longest tracklets first, each kept when far from all kept before it",
    )
    tolerance_s: float | None = option(
        None,
        "a present tracklet is labelled only with a box within this many seconds of the instant; "
        "null: half the camera's median row interval (half a frame when every frame has a crop)",
    )

    def __post_init__(self) -> None:
        if not self.period_s > 0:
            raise ValueError(f"period_s must be > 0, got {self.period_s}")
        if self.start_s < 0:
            raise ValueError(f"start_s must be >= 0, got {self.start_s}")
        if self.min_frames < 1:
            raise ValueError(f"min_frames must be >= 1, got {self.min_frames}")
        if self.min_distance < 0:
            raise ValueError(f"min_distance must be >= 0, got {self.min_distance}")
        if self.conflict not in CONFLICTS:
            raise ValueError(f"conflict must be one of {CONFLICTS}, got {self.conflict!r}")
        if self.tolerance_s is not None and self.tolerance_s < 0:
            raise ValueError(f"tolerance_s must be >= 0 or null, got {self.tolerance_s}")


@dataclass
class IsolationConfig:
    """Intra-tracklet isolation (DBSCAN on each tracklet's frame features)."""

    enabled: bool = option(True, "split tracklets at identity switches; false keeps every tracklet whole")
    eps: float = option(0.6, "eps_intra: DBSCAN radius on unit-length frame features (Euclidean)")
    min_samples: int = option(4, "DBSCAN: frames within eps (itself included) that make a core frame")
    noise: str = option(
        "drop", "DBSCAN's noise frames: drop, separate (one more sub-tracklet), nearest (nearest cluster)"
    )
    keep_unclustered: bool = option(True, "a tracklet where no cluster forms stays whole (else dropped)")

    def __post_init__(self) -> None:
        if self.eps <= 0 or self.min_samples < 1:
            raise ValueError(f"eps must be > 0 and min_samples >= 1, got {self.eps}, {self.min_samples}")
        if self.noise not in NOISE_POLICIES:
            raise ValueError(f"noise must be one of {NOISE_POLICIES}, not {self.noise!r}")


@dataclass
class AssociationConfig:
    """Inter-tracklet association (DBSCAN over pooled sub-tracklet features)."""

    frames: int = option(32, "consecutive frames per sub-tracklet pooled into its feature (a random window)")
    unclustered: str = option("drop", "sub-tracklets DBSCAN leaves as noise: drop, or own (a label each)")
    camera_centring: bool = option(
        False,
        "subtract each camera's mean pooled feature before clustering (then unit length again): removes a "
        "camera's colour cast so that one person's pieces in different cameras can meet; not in TMC",
    )
    seed: int = option(0, "seed of the frame windows")
    cluster: ClusterConfig = section(ClusterConfig, "distance and DBSCAN settings")

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1, got {self.frames}")
        if self.unclustered not in UNCLUSTERED_POLICIES:
            raise ValueError(f"unclustered must be one of {UNCLUSTERED_POLICIES}, not {self.unclustered!r}")


@dataclass
class TmcConfig:
    isolation: IsolationConfig = section(IsolationConfig, "intra-tracklet isolation")
    association: AssociationConfig = section(AssociationConfig, "inter-tracklet association")


@dataclass
class LabelConfig:
    method: str = option("tmc", "sstt (TAUDL sparse space-time sampling) or tmc (isolation + association)")
    sstt: SsttConfig = section(SsttConfig, "TAUDL's sparse space-time tracklet sampling")
    sweep_periods: list[float] = option(
        [1.0, 2.0, 4.0, 8.0, 16.0], "sstt with gt: the duplication rate is also reported for these P (s)"
    )
    tmc: TmcConfig = section(TmcConfig, "TMC's intra-tracklet isolation and inter-tracklet association")
    gt_scope: str = option(
        "global", "identity of a gt id: global (one person across cameras) or camera (MOT sequences)"
    )
    on_degenerate: str = option(
        "error",
        "labels too few (< min_labels) or one label holding more than max_label_share of the labelled "
        "(sub-)tracklets: error (stop, naming the keys to change) or warn (write them anyway)",
    )
    min_labels: int = option(2, "fewer labels are degenerate: training tells at least 2 apart in a batch")
    max_label_share: float = option(
        0.5, "a label holding more than this share of the labelled (sub-)tracklets is degenerate"
    )
    batch_size: int = option(128, "crops per model call when features come from --model")
    device: str = option("auto", "where --model runs: auto, cpu, cuda, ...")
    model: ModelConfig = section(
        ModelConfig,
        "--model network: the network whose features make TMC's first labels, built as rfv train starts "
        "from it (model.init, model.weights); rfv run copies train.model here",
    )
    reuse_features: str = option(
        "auto",
        "the frame features rfv track stored with the crops, when made by the --model given: auto (use them "
        "when they fit, else embed the crops and say why), always (an error when they do not fit), never "
        "(embed every crop)",
    )

    def __post_init__(self) -> None:
        if self.reuse_features not in REUSE:
            raise ValueError(f"reuse_features must be one of {REUSE}, not {self.reuse_features!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if self.on_degenerate not in ON_DEGENERATE:
            raise ValueError(f"on_degenerate must be one of {ON_DEGENERATE}, not {self.on_degenerate!r}")
        if self.min_labels < 1 or not 0 < self.max_label_share <= 1:
            raise ValueError(
                f"min_labels must be >= 1 and max_label_share in (0, 1], got {self.min_labels}, "
                f"{self.max_label_share}"
            )
        if self.gt_scope not in GT_SCOPES:
            raise ValueError(f"gt_scope must be one of {GT_SCOPES}, not {self.gt_scope!r}")
