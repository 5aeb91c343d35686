"""The config of ``rfv evaluate``."""

from __future__ import annotations

from dataclasses import dataclass

from reid_from_video.core.config import option, section
from reid_from_video.core.distances import METRICS


@dataclass
class RerankConfig:
    enabled: bool = option(False, "k-reciprocal re-ranking (Zhong et al. 2017) of the distances")
    k1: int = option(20, "size of the k-reciprocal neighbourhoods")
    k2: int = option(6, "neighbours averaged in the local query expansion")
    lam: float = option(0.3, "weight of the original distance against the Jaccard distance")


@dataclass
class EvaluateConfig:
    metric: str = option("cosine", f"distance between tracklet features: one of {', '.join(METRICS)}")
    frames_per_tracklet: int = option(0, "frames embedded per tracklet, spread evenly; 0: all of them")
    batch_size: int = option(128, "images per model call")
    device: str = option("auto", "where the model runs: auto, cpu, cuda, cuda:1, ...")
    ap: str = option(
        "trapezoid", "average precision: trapezoid (official MARS/Market code) or step (torchreid)"
    )
    ranks: list[int] = option([1, 5, 10, 20], "CMC ranks reported")
    block: int = option(
        1024, "queries per plain distance block (memory: block x gallery); re-ranking uses 64"
    )
    query_seed: int = option(0, "seed choosing the query tracklets of a store (one per identity and camera)")
    rerank: RerankConfig = section(RerankConfig, "k-reciprocal re-ranking")
    plots: bool = option(True, "write cmc.png")
