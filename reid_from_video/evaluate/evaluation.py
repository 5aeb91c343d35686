"""``rfv evaluate``: CMC and mAP of a re-ID model (or of given features) under a query/gallery protocol.

Data: a MARS root (the official protocol, :func:`~reid_from_video.io.protocol.mars_protocol`, on the
test tracklets) or a tracklet store whose index has ground-truth ids (MARS's rules on its tracklets,
:func:`~reid_from_video.io.protocol.tracklet_protocol`). Features: from a model file, embedding the
chosen frames of every tracklet and averaging them, or from a ``.npy`` file with one row per tracklet (or
per frame, pooled here). Distances go query block by query block, so memory stays at blocks x gallery.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.config import save_config
from reid_from_video.core.distances import METRICS, distance_blocks
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.core.lock import output_lock
from reid_from_video.embed.features import EmbedFn, pool_frames, read_feature_file, tracklet_features
from reid_from_video.evaluate.config import EvaluateConfig
from reid_from_video.evaluate.ranking import AP_MODES, RankingResult, rank_chunk, ranking_result
from reid_from_video.evaluate.result import EvaluateResult
from reid_from_video.io.protocol import Protocol
from reid_from_video.io.tracklets import TrackletSet, load_tracklets

log = logging.getLogger(__name__)


def load_features(path: str | Path, tracklets: TrackletSet) -> np.ndarray:
    """Tracklet features from a ``.npy`` file: one row per tracklet, or one per frame (then averaged).

    Rows follow the tracklets in the order :func:`load_tracklets` gives: the MARS test rows, or a store's
    tracklets sorted by (camera, track) with frames in frame order.
    """
    features = read_feature_file(path)
    n_tracklets = len(tracklets.protocol.ids)
    lengths = [len(p) for p in tracklets.paths]
    if len(features) == n_tracklets:
        return features
    if all(lengths) and len(features) == sum(lengths):
        return pool_frames(features, lengths)
    raise InputError(
        path, f"{len(features)} rows, expected one per tracklet ({n_tracklets}) or per frame ({sum(lengths)})"
    )


# ---------------------------------------------------------------------------------------------- scoring


def evaluate_features(features: np.ndarray, protocol: Protocol, config: EvaluateConfig) -> RankingResult:
    """CMC and mAP of tracklet features under ``protocol``."""
    _check_config(config)
    if len(features) != len(protocol.ids):
        raise ValueError(f"{len(features)} feature rows for {len(protocol.ids)} tracklets")
    query, gallery = features[protocol.query], features[protocol.gallery]
    if config.rerank.enabled:
        from reid_from_video.kreciprocal import rerank_blocks  # scipy.sparse work only when asked for

        rr = config.rerank
        blocks = rerank_blocks(query, gallery, rr.k1, rr.k2, rr.lam)
    else:
        blocks = distance_blocks(query, gallery, config.metric, config.block)
    ap, first = np.empty(len(query)), np.empty(len(query), np.int64)
    q_ids, q_cams = protocol.ids[protocol.query], protocol.cameras[protocol.query]
    g_ids, g_cams = protocol.ids[protocol.gallery], protocol.cameras[protocol.gallery]
    for rows, distances in blocks:
        ap[rows], first[rows] = rank_chunk(
            distances, q_ids[rows], q_cams[rows], g_ids, g_cams, protocol.junk_ids, config.ap
        )
    return ranking_result(ap, first, max(config.ranks))


def score_tracklets(
    data: str | Path,
    config: EvaluateConfig,
    embed: EmbedFn | None = None,
    features_path: str | Path | None = None,
) -> EvaluateResult:
    """Evaluate ``embed`` (a model's batch function) or the features in ``features_path`` on ``data``,
    writing nothing."""
    _check_config(config)
    tracklets = load_tracklets(data, config.query_seed)
    if (embed is None) == (features_path is None):
        raise ConfigError("give a model or a features file (one of them)")
    if embed is None:
        features = load_features(features_path, tracklets)
    elif not all(tracklets.paths):
        raise InputError(Path(data), "no image paths for the tracklets (structure only): give --features")
    else:
        features = tracklet_features(tracklets.paths, embed, config.frames_per_tracklet, config.batch_size)
    return result_of(evaluate_features(features, tracklets.protocol, config), tracklets, config)


def run_evaluate(
    data: str | Path,
    out: str | Path | None,
    config: EvaluateConfig,
    *,
    model: str | Path | None = None,
    features: str | Path | None = None,
) -> EvaluateResult:
    """``rfv evaluate``: score a re-ID ``model`` file (ONNX, TorchScript, rfv train's model.pt) or the
    ``features`` of a .npy on ``data``; with ``out``, write evaluate.json, cmc.png and config.yaml there."""
    embed = None
    if model is not None:
        from reid_from_video.embed.runtime import ReidModel

        embed = partial(ReidModel.load(model, config.device).embed, batch_size=config.batch_size)
    result = score_tracklets(data, config, embed=embed, features_path=features)
    if model is not None:
        result = replace(result, model=str(model))
    if out is not None:
        with output_lock(out):
            out = Path(out)
            written = [result.write(out), *([plot_cmc(result, out / "cmc.png")] if config.plots else [])]
            log.info("wrote %s", ", ".join(map(str, [*written, save_config(config, out)])))
    return result


def result_of(result: RankingResult, tracklets: TrackletSet, config: EvaluateConfig) -> EvaluateResult:
    summary = tracklets.protocol.summary()
    return EvaluateResult(
        source=tracklets.source,
        protocol=str(summary["protocol"]),
        tracklets=int(summary["tracklets"]),
        queries=int(summary["queries"]),
        gallery=int(summary["gallery"]),
        query_identities=int(summary["query_identities"]),
        valid_queries=result.valid_queries,
        mAP=result.mean_ap,
        ranks={k: result.rank(k) for k in config.ranks},
        metric="rerank" if config.rerank.enabled else config.metric,
        ap=config.ap,
        cmc=tuple(result.cmc.tolist()),
    )


def plot_cmc(result: EvaluateResult, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmc = np.asarray(result.cmc, np.float64)
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(np.arange(1, len(cmc) + 1), 100 * cmc, marker="o", markersize=3)
    axis.set_xlabel("rank")
    axis.set_ylabel("matching rate (%)")
    axis.set_title(f"CMC, mAP {100 * result.mAP:.1f}%")
    axis.set_ylim(0, 100)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
    plt.close(figure)
    return path


def _check_config(config: EvaluateConfig) -> None:
    if config.metric not in METRICS:
        raise ConfigError(f"metric must be one of {METRICS}, not {config.metric!r}")
    if config.ap not in AP_MODES:
        raise ConfigError(f"ap must be one of {AP_MODES}, not {config.ap!r}")
    if not config.ranks or min(config.ranks) < 1:
        raise ConfigError(f"ranks must be integers >= 1, not {config.ranks}")
    if config.block < 1 or config.batch_size < 1:
        raise ConfigError("block and batch_size must be >= 1")
