"""The ``rfv train`` config: one dataclass per section, the papers' settings as defaults.

``reid_from_video/configs/train/taudl_mars.yaml`` and ``tmc_mars.yaml`` restate the papers'
hyper-parameters; the ``*_synth.yaml`` presets are small CPU runs on the synthetic world.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from reid_from_video.core.config import option, section
from reid_from_video.labels.config import AssociationConfig
from reid_from_video.losses.settings import REID_LABEL_SMOOTHING, TAUDL_LAMBDA, TAUDL_SIGMA, TMC_MARGIN
from reid_from_video.models.config import ModelConfig

METHODS = ("taudl", "tmc")
AMP_MODES = ("auto", "bf16", "off")


@dataclass
class AugmentConfig:
    """The ``augment`` section: batch augmentation of the training images."""

    flip: float = option(0.5, "probability of a horizontal flip")
    padding: int = option(10, "pixels of mean colour added on each side before a random crop; 0: no crop")
    erasing: float = option(0.5, "probability of random erasing (a rectangle set to the mean colour)")
    erasing_area: tuple[float, float] = option([0.02, 0.4], "[min, max] share of the image area erased")
    erasing_ratio: tuple[float, float] = option(
        [0.3, 3.33], "[min, max] height / width of the erased rectangle (drawn log-uniform)"
    )

    def __post_init__(self) -> None:
        if not (0 <= self.flip <= 1 and 0 <= self.erasing <= 1):
            raise ValueError(f"flip and erasing are probabilities in [0, 1], got {self.flip}, {self.erasing}")
        if self.padding < 0:
            raise ValueError(f"padding must be >= 0, got {self.padding}")
        if len(self.erasing_area) != 2 or not 0 < self.erasing_area[0] <= self.erasing_area[1] <= 1:
            raise ValueError(f"erasing_area must be [min, max] in (0, 1], got {list(self.erasing_area)}")
        if len(self.erasing_ratio) != 2 or not 0 < self.erasing_ratio[0] <= self.erasing_ratio[1]:
            raise ValueError(f"erasing_ratio must be [min, max] with 0 < min, got {list(self.erasing_ratio)}")
        self.erasing_area = (float(self.erasing_area[0]), float(self.erasing_area[1]))
        self.erasing_ratio = (float(self.erasing_ratio[0]), float(self.erasing_ratio[1]))


@dataclass
class DataConfig:
    """What a batch is and how images arrive."""

    p: int = option(16, "labels per batch (TAUDL: split evenly over the batch's cameras)")
    k: int = option(4, "images per label in a batch (drawn with replacement when a label has fewer)")
    iters: int = option(0, "batches per epoch; 0: one pass over the labels (every label once)")
    cameras_per_batch: int = option(0, "taudl: cameras in each batch; 0: all of them")
    min_frames: int = option(1, "tracklets (sub-tracklets) with fewer frames are left out")
    workers: int = option(2, "image decoding processes; 0: decode in the training process")

    def __post_init__(self) -> None:
        if self.p < 1 or self.k < 1:
            raise ValueError(f"p and k must be >= 1, got {self.p}, {self.k}")
        if self.p * self.k < 2:
            raise ValueError(
                f"p={self.p}, k={self.k} make batches of one image, and batch norm needs two or more: "
                "raise p or k"
            )
        if self.iters < 0 or self.cameras_per_batch < 0 or self.workers < 0 or self.min_frames < 1:
            raise ValueError("iters, cameras_per_batch, workers must be >= 0 and min_frames >= 1")


@dataclass
class OptimConfig:
    """Adam with a linear warm-up and step decay (the learning rate is a function of the epoch)."""

    lr: float = option(3.5e-4, "Adam's learning rate (both papers: 3.5e-4)")
    weight_decay: float = option(5e-4, "L2 weight decay (TMC: 5e-4)")
    warmup_epochs: int = option(0, "epochs of linear warm-up from lr / 10")
    milestones: list[int] = option([], "epochs after which the learning rate is multiplied by gamma")
    gamma: float = option(0.1, "the step-decay factor")
    accumulate: int = option(1, "batches whose gradients are summed before one optimiser step")

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.weight_decay < 0 or self.warmup_epochs < 0 or self.accumulate < 1:
            raise ValueError("lr must be > 0, weight_decay and warmup_epochs >= 0, accumulate >= 1")


@dataclass
class TaudlTrainConfig:
    """TAUDL's joint loss, eq. (4)."""

    weight: float = option(TAUDL_LAMBDA, "lambda: (1 - lambda) PCTD + lambda CCTA (0.7)")
    sigma: float = option(TAUDL_SIGMA, "CCTA's Gaussian kernel scale (2)")
    k: int = option(0, "CCTA's cross-camera neighbours; 0: T / 2, T the number of cameras (TAUDL's)")
    include_self: bool = option(True, "CCTA's denominator includes the tracklet itself (eq. 3 as printed)")
    label_smoothing: float = option(0.0, "PCTD's label smoothing (0 in TAUDL)")


@dataclass
class TmcTrainConfig:
    """TMC: Net + Mean Net, hard and soft losses, association before every epoch."""

    alpha: float = option(0.999, "Mean Net's ensembling momentum (eq. 1)")
    lambda_id: float = option(0.5, "(1 - l) hard CE + l soft CE")
    lambda_tri: float = option(0.8, "(1 - l) hard triplet + l soft triplet")
    margin: float = option(TMC_MARGIN, "hard triplet margin")
    label_smoothing: float = option(REID_LABEL_SMOOTHING, "hard CE label smoothing (MMT: 0.1)")
    isolation: bool = option(
        True, "train on the isolated sub-tracklets of --labels (sub_tracks.csv); false: whole tracklets"
    )
    first_labels: Literal["given", "associate"] = option(
        "given", "epoch 1's labels: given (labels.csv of --labels, if any) or associate (Mean Net features)"
    )
    association: AssociationConfig = section(AssociationConfig, "the association run before every epoch")

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1), got {self.alpha}")
        if not (0.0 <= self.lambda_id <= 1.0 and 0.0 <= self.lambda_tri <= 1.0):
            raise ValueError("lambda_id and lambda_tri must be in [0, 1]")


@dataclass
class EvalHookConfig:
    """Evaluation during training (rank 0), with ``rfv evaluate``'s code."""

    data: str = option("", "a MARS root (its test split) or a tracklet store with gt ids; empty: none")
    every: int = option(1, "evaluate after every this many epochs (and after the last)")
    frames_per_tracklet: int = option(8, "frames embedded per tracklet, spread evenly; 0: all")
    before: bool = option(True, "also evaluate the network before training (the baseline)")


@dataclass
class GateConfig:
    """The appearance gate written into model.pt (and the exported models' cards) for ``rfv track``: the
    ``quantile`` of the distances between people seen together in one frame of the training cameras (see
    :mod:`reid_from_video.embed.gate`). Needs a tracklet store: MARS has no frame numbers of the video."""

    calibrate: bool = option(True, "calibrate it after training (rank 0); false: the card has none")
    quantile: float = option(0.01, "share of co-visible (different) people closer than the gate")
    frames: int = option(400, "at most this many frames with two or more people, spread evenly")
    min_pairs: int = option(100, "fewer co-visible pairs than this: no gate (too few to calibrate)")

    def __post_init__(self) -> None:
        if not 0.0 < self.quantile < 0.5:
            raise ValueError(f"quantile must be in (0, 0.5), got {self.quantile}")
        if self.frames < 1 or self.min_pairs < 1:
            raise ValueError("frames and min_pairs must be >= 1")


@dataclass
class CpuScheduleConfig:
    """The ``cpu_schedule`` section: how long training runs when it runs on a CPU. The papers' schedules
    are GPU work: ``rfv run``'s TMC (40 epochs of 400 batches of 64 images) takes about 12 h for
    OSNet-x0.25 on 2 CPU cores (24 images/s), 20 h for ResNet-50 (14 images/s)."""

    epochs: int = option(0, "epochs on a CPU; 0: epochs, as on a GPU")
    iters: int = option(0, "batches per epoch on a CPU; 0: data.iters, as on a GPU")

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.iters < 0:
            raise ValueError(f"epochs and iters must be >= 0, got {self.epochs}, {self.iters}")


@dataclass
class TrainConfig:
    method: Literal["taudl", "tmc"] = option("tmc", "taudl or tmc")
    epochs: int = option(40, "training epochs (TMC: 40)")
    seed: int = option(0, "seed of the sampler, the augmentation, the association windows and the weights")
    device: str = option("auto", "auto, cpu, cuda, cuda:1 (under torchrun: the local rank's GPU)")
    amp: str | bool = option("auto", "mixed precision: auto (bf16 on a GPU, off on a CPU), bf16, off")
    channels_last: bool = option(True, "channels-last memory format (faster convolutions on GPUs)")
    compile: bool = option(False, "torch.compile the network")
    sync_bn: bool = option(True, "under DDP: batch norm statistics over the global batch")
    threads: int = option(0, "CPU threads for torch; 0: torch's default")
    inference_threads: int = option(
        0,
        "CPU threads of the passes without gradients (TMC's association, the evaluation and gate hooks); "
        "0: as threads",
    )
    save_every: int = option(0, "also checkpoint every this many batches inside an epoch; 0: per epoch")
    progress: bool = option(True, "a progress bar with images/s")
    model: ModelConfig = section(ModelConfig, "the network")
    data: DataConfig = section(DataConfig, "batches and loading")
    augment: AugmentConfig = section(AugmentConfig, "augmentation on the training device")
    optim: OptimConfig = section(OptimConfig, "optimiser and learning-rate schedule")
    taudl: TaudlTrainConfig = section(TaudlTrainConfig, "TAUDL's loss")
    tmc: TmcTrainConfig = section(TmcTrainConfig, "TMC's losses and association")
    eval: EvalHookConfig = section(EvalHookConfig, "evaluation during training")
    gate: GateConfig = section(GateConfig, "the tracker's appearance gate, calibrated after training")
    cpu_schedule: CpuScheduleConfig = section(
        CpuScheduleConfig,
        "the schedule when training runs on a CPU (no GPU, or device=cpu); 0: the GPU's (epochs, data.iters)",
    )

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        if isinstance(self.amp, bool):  # YAML reads a bare off / on as a boolean
            self.amp = "bf16" if self.amp else "off"
        if self.amp not in AMP_MODES:
            raise ValueError(f"amp must be one of {AMP_MODES}, not {self.amp!r}")
        if self.epochs < 1 or self.save_every < 0 or self.threads < 0 or self.inference_threads < 0:
            raise ValueError("epochs must be >= 1, save_every, threads and inference_threads >= 0")

    def on_device(self, device_type: str) -> TrainConfig:
        """This config as it trains on ``device_type`` (``cpu``, ``cuda``): on a CPU, ``cpu_schedule``'s
        epochs and iters (those set) replace ``epochs`` and ``data.iters``; itself where nothing changes."""
        epochs = self.cpu_schedule.epochs or self.epochs
        iters = self.cpu_schedule.iters or self.data.iters
        if device_type != "cpu" or (epochs, iters) == (self.epochs, self.data.iters):
            return self  # e.g. a saved config, already the CPU's: no "instead of" to say
        return dataclasses.replace(self, epochs=epochs, data=dataclasses.replace(self.data, iters=iters))
