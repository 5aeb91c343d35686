"""Where TMC's frame features come from: a ``.npy`` file, the features ``rfv track`` stored with the crops
(when made by the same model), or the model (or colour histograms) run on every crop."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reid_from_video.core.config import config_to_dict
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.embed.features import EmbedFn, read_feature_file, tracklet_features
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.stored_features import describe, read_stored_features
from reid_from_video.labels.config import HISTOGRAM, NETWORK, LabelConfig

if TYPE_CHECKING:
    from reid_from_video.embed.runtime import ReidModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CropEmbedder:
    """A way to embed the store's crops, and what makes its features (compared with the stored ones)."""

    embed: EmbedFn
    name: str
    identity: dict[str, Any] | None  # None: features the tracker never stores, for the reason below
    feature_dim: int | None  # when known before embedding
    not_stored: str = ""


@dataclass(frozen=True)
class FrameFeatures:
    """One feature row per index row, and where they came from (for the report)."""

    features: np.ndarray
    source: str


def model_embedder(model: str | Path, config: LabelConfig) -> CropEmbedder:
    """``histogram`` (colour histograms of the crops), ``network`` (the network of ``config.model``, as
    training starts from it: a pretrained re-ID model gives the first labels) or a re-ID model file."""
    if str(model) == HISTOGRAM:
        from reid_from_video.embed.base import EmbedderConfig
        from reid_from_video.embed.histogram import HistogramEmbedder

        histogram = HistogramEmbedder(EmbedderConfig(backend="histogram"))
        # The tracker's histograms are of the frame's pixels, not of the JPEG crops: never stored.
        return CropEmbedder(
            histogram.embed_crops,
            HISTOGRAM,
            None,
            2 * histogram.bins**3,
            "colour histograms are always computed from the crops",
        )
    from reid_from_video.embed.identity import model_identity, start_network_identity

    if str(model) == NETWORK:
        network = _start_network(config)
        return CropEmbedder(
            lambda crops: network.embed(crops, batch_size=config.batch_size),
            str(network.path),
            start_network_identity(config.model),
            network.card.feature_dim,
            "the network of model.* (built as training starts from it) is not a model file rfv track ran (it "
            "is one only as an ONNX model.init with model.embedding_dim 0)",
        )
    from reid_from_video.embed.runtime import ReidModel

    loaded = ReidModel.load(model, config.device)
    identity = model_identity(loaded)
    return CropEmbedder(
        lambda crops: loaded.embed(crops, batch_size=config.batch_size),
        describe(identity),
        identity,
        loaded.card.feature_dim,
    )


def _start_network(config: LabelConfig) -> ReidModel:
    """The network ``rfv train`` starts from with ``config.model`` (its weights or init file), embedding."""
    from reid_from_video.embed.card import ModelCard
    from reid_from_video.embed.runtime import ReidModel
    from reid_from_video.models.architecture import with_init_architecture
    from reid_from_video.models.reid_net import build_model

    model = with_init_architecture(config.model)
    net = build_model(model)
    card = ModelCard.from_model_config(config_to_dict(model), net.feature_dim)
    name = Path(model.init).name if model.init else f"{model.backbone} ({model.weights})"
    return ReidModel.from_torch(net, card, config.device, path=Path(name), format="network")


def frame_features(
    store: TrackletStore,
    index: pd.DataFrame,
    config: LabelConfig,
    features_path: str | Path | None = None,
    embedder: CropEmbedder | None = None,
) -> FrameFeatures:
    """The features of ``index``'s rows: from ``features_path`` (a .npy, one row per index row, in index
    order), else the store's own when made by ``embedder`` (``config.reuse_features``), else ``embedder``
    run on the crops."""
    if features_path is not None:
        features = read_feature_file(features_path)
        if len(features) != len(index):
            raise InputError(
                features_path, f"{len(features)} rows, expected one per index row ({len(index)})"
            )
        return FrameFeatures(features, f"file {features_path}")
    if embedder is None:
        raise ValueError("TMC needs appearance features: give a features file or a model")
    stored = _stored(store, index, embedder, config.reuse_features)
    if stored is not None:
        log.info("features: the %d stored by rfv track (%s), no crop embedded", len(stored), embedder.name)
        return FrameFeatures(stored, f"stored by rfv track ({embedder.name})")
    features = embed_rows(store, index, embedder.embed, config.batch_size)
    return FrameFeatures(features, f"embedded ({embedder.name})")


def _stored(
    store: TrackletStore, index: pd.DataFrame, embedder: CropEmbedder, policy: str
) -> np.ndarray | None:
    """The store's features when made by ``embedder`` and sound; None (saying why) when they are not to be
    used; with ``policy`` always, an error naming the file instead."""
    if policy == "never":
        log.info("features: embedding every crop (reuse_features=never)")
        return None
    if embedder.identity is None:
        if policy == "always":
            raise ConfigError(f"reuse_features=always: {embedder.not_stored}; give a re-ID model file")
        log.info("features: %s", embedder.not_stored)
        return None
    try:
        return read_stored_features(store, index, embedder.identity, embedder.feature_dim)
    except InputError as error:
        if policy == "always":
            raise
        log.info("stored features not reused: %s; embedding the %d crops", error, len(index))
        return None


def embed_rows(store: TrackletStore, index: pd.DataFrame, embed: EmbedFn, batch_size: int) -> np.ndarray:
    """One feature row per index row, from its crop."""
    missing = index["path"] == ""
    if missing.any():
        raise InputError(
            store.index_path, f"{int(missing.sum())} index rows have no crop path: give --features"
        )
    paths = [[str(store.resolve(p))] for p in index["path"]]
    return tracklet_features(paths, embed, frames_per_tracklet=0, batch_size=batch_size)
