"""The config of ``rfv track``: detector, embedder, tracker (trackers.DeepSortConfig), video, crops."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reid_from_video.core.config import option, section
from reid_from_video.detect.config import DetectorConfig
from reid_from_video.embed.base import EmbedderConfig
from reid_from_video.io.config import CropConfig, VideoConfig
from rfv_trackers import DeepSortConfig

_SHARD = re.compile(r"([0-9]+)/([0-9]+)")


@dataclass
class RayConfig:
    """Where ``executor=ray`` runs the cameras, and what each camera's task asks the cluster for."""

    address: str | None = option(
        None, "the Ray cluster (ray://HOST:10001, auto, ...); null: RAY_ADDRESS, else a local Ray instance"
    )
    cpus_per_camera: float = option(2.0, "CPUs a camera's task reserves (its models' threads follow)")
    gpus_per_camera: float = option(
        0.0, "GPUs a camera's task reserves (0.5: two cameras share one); its models then run on the GPU"
    )

    def __post_init__(self) -> None:
        if self.cpus_per_camera <= 0 or self.gpus_per_camera < 0:
            raise ValueError("ray.cpus_per_camera must be > 0 and ray.gpus_per_camera >= 0")


@dataclass
class TrackConfig:
    detector: DetectorConfig = section(DetectorConfig, "person detector and box filters")
    embedder: EmbedderConfig = section(EmbedderConfig, "appearance features for the tracker")
    tracker: DeepSortConfig = section(
        DeepSortConfig, "DeepSORT settings (reid_from_video/configs/trackers/deepsort.yaml)"
    )
    video: VideoConfig = section(VideoConfig, "which frames of each camera are read")
    crops: CropConfig = section(CropConfig, "person crops saved to the tracklet store")
    save_crops: bool = option(True, "save crops and their index; false writes only the MOTChallenge files")
    output_box: Literal["kalman", "detection"] = option(
        "kalman", "box written for a matched track: the Kalman estimate (as DeepSORT) or the detection"
    )
    backfill: bool = option(
        True, "once a track is confirmed, also write its first n_init - 1 (tentative) frames"
    )
    cameras: list[str] = option([], "only these cameras (names); empty: all")
    workers: int = option(1, "cameras tracked in parallel processes (executor=local)")
    executor: Literal["local", "ray"] = option(
        "local",
        "local: this machine, in workers processes; ray: one Ray task per camera on a cluster (ray.*), "
        "--out on a filesystem every node sees",
    )
    ray: RayConfig = section(RayConfig, "the Ray cluster for executor=ray")
    pipeline: bool | None = option(
        None,
        "overlap the stages of a camera in threads (decode, detect, embed, track, crop writing), each a few "
        "frames ahead of the next; false: one stage after the other (the same outputs); null: overlap when a "
        "network model (yolo, yolox, onnx, torch) runs on a GPU or each worker has 2 or more CPU cores, or, "
        "with no network model, 4 or more (benchmarks/bench_pipeline_pets09.py, bench_pipeline_crowd.py)",
    )
    shard: str = option(
        "1/1",
        "i/n: this machine takes every n-th camera starting at the i-th (1-based); shards that run at the "
        "same time need their own --out (a folder has one writer at a time)",
    )
    progress: bool = option(True, "a progress bar per camera")
    overwrite: bool = option(
        False,
        "delete the cameras in --out made with other settings (or by an older rfv) and track them again; "
        "false: such a folder is refused, so that one folder never mixes two configs",
    )

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        self.shard_index()

    def shard_index(self) -> tuple[int, int]:
        """(i, n) of ``shard``, 0-based i."""
        match = _SHARD.fullmatch(self.shard.strip())
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ValueError(f"shard must be i/n with 1 <= i <= n, got {self.shard!r}")
        return int(match[1]) - 1, int(match[2])
