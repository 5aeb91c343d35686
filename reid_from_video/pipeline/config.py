"""``rfv run``'s config: one section per stage (each the stage command's own config) and the inputs that
are not a stage's output. ``reid_from_video/configs/pipeline/*.yaml`` are presets; ``train.epochs=5``-style
overrides reach any stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from reid_from_video.associate.config import AssociateConfig
from reid_from_video.core.config import option, section
from reid_from_video.evaluate.config import EvaluateConfig
from reid_from_video.export.config import ExportConfig
from reid_from_video.labels.config import HISTOGRAM, NETWORK, LabelConfig
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.synth.config import SynthConfig
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.train.config import TrainConfig

AUTO = "auto"  # label_model: decided by train.model (see its help)
TRAINER_OF_LABELS = {"sstt": "taudl", "tmc": "tmc"}  # label.method -> the train.method that reads them


@dataclass
class PipelineConfig:
    gt: str = option(
        "",
        "MOTChallenge ground truth of the cameras (one sequence per camera): scores the tracks (mot-eval) "
        "and the labels; empty: the camera folder's own gt/gt.txt when it is a MOT tree, else none",
    )
    eval_data: str = option(
        "",
        "held-out evaluation set (a MARS root, or a store with gt_id): the model is scored on it before "
        "and after training; empty: no evaluation",
    )
    label_model: str = option(
        "auto",
        "tmc: the features of the first labels: network (the network training starts from: train.model), "
        "histogram, or a re-ID model file (ONNX, ...); auto: network when training starts from pretrained "
        "weights (train.model.init, or train.model.weights other than none), else histogram",
    )
    track: TrackConfig = section(TrackConfig, "rfv track")
    mot_eval: MotEvalConfig = section(MotEvalConfig, "rfv mot-eval (when there is ground truth)")
    label: LabelConfig = section(LabelConfig, "rfv label")
    train: TrainConfig = section(TrainConfig, "rfv train")
    evaluate: EvaluateConfig = section(EvaluateConfig, "rfv evaluate (when eval_data is given)")
    export: ExportConfig = field(
        default_factory=lambda: ExportConfig(format="onnx"), metadata={"help": "rfv export (ONNX by default)"}
    )
    associate: AssociateConfig = section(
        AssociateConfig, "rfv associate: the cameras' tracklets linked into global identities by the model"
    )

    def __post_init__(self) -> None:
        wanted = TRAINER_OF_LABELS[self.label.method]
        if self.train.method != wanted:
            raise ValueError(
                f"label.method={self.label.method} makes labels for train.method={wanted}, "
                f"not {self.train.method}"
            )
        if not self.track.save_crops:
            raise ValueError("track.save_crops must be true: training reads the crops of the store")

    def label_features(self) -> str:
        """What the label stage embeds the crops with (``label_model`` with auto decided)."""
        if self.label_model != AUTO:
            return self.label_model
        return NETWORK if self.train.model.pretrained else HISTOGRAM


@dataclass
class DemoConfig:
    world: SynthConfig = section(SynthConfig, "the camera network the pipeline learns from (rfv synth)")
    heldout: SynthConfig = field(
        default_factory=lambda: SynthConfig(people_seed=1, test_fraction=0.9, contact_sheet=False),
        metadata={"help": "the same cameras watching other people (another people_seed): scores the model"},
    )
    pipeline: PipelineConfig = section(PipelineConfig, "rfv run (gt and eval_data are set by the demo)")

    def __post_init__(self) -> None:
        if self.heldout.people == self.world.people:
            raise ValueError("heldout.people_seed must differ from the world's: the held-out people are new")
        for key in ("seed", "cameras", "size", "photometric"):  # what makes the cameras
            if getattr(self.heldout, key) != getattr(self.world, key):
                raise ValueError(f"heldout.{key} must equal world.{key}: the same cameras, other people")
