"""The configuration of ``rfv synth``: the size of the world, its crowd, and what is written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reid_from_video.core.config import option, section
from reid_from_video.io.mars_layout import CAMERAS

_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")
MARS_MAX_CAMERAS = CAMERAS[-1]  # MARS image names hold the camera as one digit, and io.mars accepts 1..6


def parse_size(text: str) -> tuple[int, int]:
    """``"640x360"`` -> ``(640, 360)`` (width, height); ValueError for anything else."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"size must be WIDTHxHEIGHT such as 640x360, got {text!r}")
    width, height = int(match[1]), int(match[2])
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise ValueError(f"size must be at least 64x64 with even sides (video codecs), got {text!r}")
    return width, height


@dataclass
class MarsExportConfig:
    """The ``mars`` section: ground-truth crops in the MARS layout."""

    enabled: bool = option(True, "export gt crops in the MARS layout under OUT/mars (at most 6 cameras)")
    min_visibility: float = option(0.5, "a gt box becomes a crop when at least this fraction is visible")
    min_height: int = option(24, "smallest crop height in pixels (after clipping to the frame)")
    min_frames: int = option(4, "shortest tracklet; shorter runs of good boxes are dropped")
    max_frames: int = option(120, "longest tracklet; longer runs are cut into several (MARS names allow 999)")
    stride: int = option(1, "keep every k-th frame of a run")
    crop_height: int = option(256, "crops are resized to crop_height x crop_width (MARS: 256 x 128)")
    crop_width: int = option(128, "see crop_height")
    jpeg_quality: int = option(90, "JPEG quality of the crops")

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_visibility <= 1.0:
            raise ValueError(f"min_visibility must be in [0, 1], got {self.min_visibility}")
        if not 1 <= self.min_frames <= self.max_frames <= 999:
            raise ValueError("need 1 <= min_frames <= max_frames <= 999")
        for name in ("min_height", "stride", "crop_height", "crop_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError("jpeg_quality must be in 1..100")


@dataclass
class SynthConfig:
    """Everything that decides a synthetic world; the same config and seed give the same world."""

    cameras: int = option(3, "number of static cameras")
    identities: int = option(40, "number of people")
    seconds: float = option(60.0, "length of every camera's video, seconds (all cameras share one clock)")
    fps: int = option(10, "frames per second")
    size: str = option("640x360", "frame size WIDTHxHEIGHT")
    seed: int = option(0, "random seed: the same seed gives byte-identical gt.txt and world.json")
    people_seed: int = option(
        -1,
        "seed of the people (looks, journeys, split) apart from the cameras; -1: seed. Another "
        "people_seed with the same seed: the same camera network watching other people",
    )
    density: float = option(4.0, "crowd density: mean number of people in view per camera")
    revisit: float = option(0.25, "probability that a person's next appearance is the same camera again")
    similar_pairs: int = option(-1, "pairs of deliberately similar-looking people (-1: identities // 8)")
    test_fraction: float = option(0.5, "share of identities in the test split (train and test disjoint)")
    shadows: bool = option(True, "draw soft shadows under the people")
    photometric: bool = option(True, "per-camera colour cast, brightness, contrast, blur and noise")
    codec: str = option("mp4v", "video codec (FourCC): mp4v writes .mp4, MJPG writes .avi")
    frames: bool = option(False, "also write every frame as gt/<camera>/img1/000001.jpg (a full MOT tree)")
    contact_sheet: bool = option(True, "write contact_sheet.jpg: sample frames of every camera with gt")
    workers: int = option(0, "processes rendering cameras in parallel (0: one per camera, up to the CPUs)")
    mars: MarsExportConfig = section(MarsExportConfig, "export of gt crops in the MARS layout")

    @property
    def people(self) -> int:
        """The seed of everything about the people."""
        return self.seed if self.people_seed < 0 else self.people_seed

    def __post_init__(self) -> None:
        parse_size(self.size)
        if self.cameras < 1:
            raise ValueError("cameras must be >= 1")
        if self.identities < 2 or self.identities > 9999:
            raise ValueError("identities must be in 2..9999 (MARS names hold 4 digits)")
        if self.seconds <= 0 or self.fps < 1:
            raise ValueError("seconds must be > 0 and fps >= 1")
        if self.density <= 0:
            raise ValueError("density must be > 0")
        if not 0.0 <= self.revisit < 1.0:
            raise ValueError("revisit must be in [0, 1)")
        if not 0.0 < self.test_fraction < 1.0:
            raise ValueError("test_fraction must be strictly between 0 and 1")
        if self.codec not in ("mp4v", "MJPG"):
            raise ValueError(f"codec must be mp4v or MJPG, got {self.codec!r}")
        if self.workers < 0:
            raise ValueError("workers must be >= 0")
        if self.people_seed < -1:
            raise ValueError("people_seed must be >= 0, or -1 (the seed)")
        if self.mars.enabled and self.cameras > MARS_MAX_CAMERAS:
            raise ValueError(
                f"the MARS layout numbers cameras 1..{MARS_MAX_CAMERAS}: with cameras={self.cameras} "
                "set mars.enabled=false"
            )

    @property
    def width(self) -> int:
        return parse_size(self.size)[0]

    @property
    def height(self) -> int:
        return parse_size(self.size)[1]

    @property
    def n_frames(self) -> int:
        return max(1, round(self.seconds * self.fps))

    @property
    def n_similar_pairs(self) -> int:
        return self.identities // 8 if self.similar_pairs < 0 else self.similar_pairs

    @property
    def video_suffix(self) -> str:
        return ".mp4" if self.codec == "mp4v" else ".avi"
