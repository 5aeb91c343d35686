"""``run_associate``: the tracklets of a camera network's store linked into global identities by a re-ID
model (or colour histograms), with the rules of :mod:`reid_from_video.associate.linking`.

Outputs in the associate folder:

* ``mot/<camera>.txt``: the store's MOTChallenge files with every track id replaced by its identity (1, 2,
  ...; the same number in every camera for one person): ``rfv mot-eval GT OUT/mot cross_camera=global``
  scores them across cameras;
* ``journeys.csv``: one row per tracklet, by identity then time: identity, camera, track, first / last
  frame and time (s), frames;
* ``associate.json``: counts, the threshold and where it came from, the transit times between cameras that
  the links imply (per camera pair: how many identities went from one to the other, and the median, least
  and most seconds between leaving the first and entering the second);
* ``config.yaml``.

``rfv associate`` adds ``identities.html``, each identity's appearances (crops, camera, time), written by
the report layer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.associate.config import AssociateConfig, TrackletFeatureConfig
from reid_from_video.associate.linking import Spans, link, link_threshold
from reid_from_video.associate.result import AssociateResult
from reid_from_video.associate.transit import learnt_transit, read_topology, transit_times
from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.config import save_config
from reid_from_video.core.distances import camera_centred, normalize_rows
from reid_from_video.core.errors import InputError
from reid_from_video.core.lock import output_lock
from reid_from_video.embed.features import chosen_frames, pool_frames, tracklet_features
from reid_from_video.embed.identity import Identity
from reid_from_video.io.mot import read_mot, write_mot
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.stored_features import read_stored_features

log = logging.getLogger(__name__)
HISTOGRAM = "histogram"
JOURNEYS_FILE = "journeys.csv"


def store_folder(path: str | Path) -> Path:
    """The tracklet store of ``path``: the folder itself, or an ``rfv run`` folder's ``track/``."""
    path = Path(path)
    if not (path / "index.csv").is_file() and (path / "track" / "index.csv").is_file():
        return path / "track"
    return path


def run_associate(
    store: str | Path, out: str | Path, config: AssociateConfig, model: str | Path
) -> AssociateResult:
    """``rfv associate``: link ``store``'s tracklets with ``model``'s features (a model file, or
    ``histogram``) into ``out`` (see the module docstring); the result (``associate.json``)."""
    started = time.perf_counter()
    found = embedded_tracklets(store, feature_model(str(model), config), config)
    folder, tracklet_store, index, tracklets = found.folder, found.store, found.index, found.tracklets
    features, source = found.features, found.source
    cameras = tracklets["camera"].to_numpy()
    if config.centre_cameras and len(np.unique(cameras)) > 1:
        features = camera_centred(features, cameras)
    codes, names = pd.factorize(tracklets["camera"])
    spans = Spans(
        codes,
        tracklets["first_frame"].to_numpy(),
        tracklets["last_frame"].to_numpy(),
        tracklets["first_s"].to_numpy(dtype=float),
        tracklets["last_s"].to_numpy(dtype=float),
    )
    long_enough = tracklets["frames"].to_numpy() >= config.min_frames
    threshold, threshold_source, pairs = _threshold(features, spans, config, tracklet_store.index_path)
    linked, alone = np.flatnonzero(long_enough), np.flatnonzero(~long_enough)

    def journeys_of(threshold: float, transit: np.ndarray | None = None) -> pd.DataFrame:
        identity = np.empty(len(tracklets), np.int64)
        identity[linked] = link(features[linked], spans.subset(linked), threshold, config.neighbours, transit)
        identity[alone] = (identity[linked].max() + 1 if len(linked) else 0) + np.arange(len(alone))
        table = tracklets.drop(columns="rows").assign(identity=identity + 1)
        table = table.sort_values(["identity", "first_s", "first_frame", "camera"], kind="stable")
        return table[
            ["identity", "camera", "track", "first_frame", "last_frame", "first_s", "last_s", "frames"]
        ]

    transit, transit_source = _transit(config, list(names), features, spans, journeys_of)
    journeys = journeys_of(threshold, transit)
    per_identity = journeys.groupby("identity")["camera"].nunique()
    result = AssociateResult(
        store=str(folder),
        model=str(model),
        features=source,
        cameras=int(tracklets["camera"].nunique()),
        tracklets=len(tracklets),
        too_short=len(alone),
        identities=int(journeys["identity"].nunique()),
        multi_camera=int((per_identity > 1).sum()),
        threshold=round(threshold, 6),
        threshold_source=threshold_source,
        known_different_pairs=pairs,
        transit_source=transit_source,
        seconds=round(time.perf_counter() - started, 3),
        transits=transit_times(journeys),
    )
    with output_lock(out):
        out = Path(out)
        _write_mot(folder, index, journeys, out / "mot")
        with atomic_write(out / JOURNEYS_FILE) as handle:
            journeys.to_csv(handle, index=False)
        result.write(out)
        save_config(config, out)
    log.info("%s; wrote %s", result.summary(), out)
    return result


@dataclass(frozen=True)
class EmbeddedTracklets:
    """A store's tracklets with one unit feature each, and where the features came from."""

    folder: Path
    store: TrackletStore
    index: pd.DataFrame
    tracklets: pd.DataFrame  # tracklet_table
    features: np.ndarray
    source: str


def embedded_tracklets(
    store: str | Path, model: FeatureModel, config: TrackletFeatureConfig
) -> EmbeddedTracklets:
    """The tracklets of ``store`` (a store, or an ``rfv run`` folder) and their features by ``model``."""
    folder = store_folder(store)
    tracklet_store = TrackletStore(folder)
    index = tracklet_store.read_index().reset_index(drop=True)
    if index.empty:
        raise InputError(tracklet_store.index_path, "the store holds no tracklet")
    tracklets = tracklet_table(index)
    features, source = tracklet_features_of(tracklet_store, index, tracklets, model, config)
    return EmbeddedTracklets(folder, tracklet_store, index, tracklets, features, source)


def tracklet_table(index: pd.DataFrame) -> pd.DataFrame:
    """One row per (camera, track): first / last frame and time, frames, and its index rows in frame order."""
    ordered = index.sort_values(["camera", "track", "frame"], kind="stable")
    groups = ordered.groupby(["camera", "track"], sort=True)
    table = groups.agg(
        first_frame=("frame", "first"),
        last_frame=("frame", "last"),
        first_s=("time_s", "first"),
        last_s=("time_s", "last"),
        frames=("frame", "size"),
    ).reset_index()
    keys = ordered[["camera", "track"]].to_numpy()
    starts = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)])
    table["rows"] = np.split(ordered.index.to_numpy(), starts[1:])  # groupby sorts the same way
    return table


@dataclass(frozen=True)
class FeatureModel:
    """What makes a tracklet's features: ``embed`` (BGR crops -> unit rows), its ``identity`` (the stored
    features' key; None for histograms, which are not stored) and a ``name`` to report."""

    embed: Callable[[list[np.ndarray]], np.ndarray]
    identity: Identity | None
    name: str


def feature_model(model: str, config: TrackletFeatureConfig) -> FeatureModel:
    """``model`` (a model file, or ``histogram``) loaded once, for the tracklets and any query."""
    if model == HISTOGRAM:
        from reid_from_video.embed.base import EmbedderConfig
        from reid_from_video.embed.histogram import HistogramEmbedder

        histograms = HistogramEmbedder(EmbedderConfig(backend="histogram"))
        return FeatureModel(histograms.embed_crops, None, HISTOGRAM)
    from reid_from_video.embed.identity import model_identity
    from reid_from_video.embed.runtime import ReidModel

    loaded = ReidModel.load(model, config.device)

    def embed(crops: list[np.ndarray]) -> np.ndarray:
        return loaded.embed(crops, batch_size=config.batch_size)

    return FeatureModel(embed, model_identity(loaded), Path(model).name)


def tracklet_features_of(
    store: TrackletStore,
    index: pd.DataFrame,
    tracklets: pd.DataFrame,
    model: FeatureModel,
    config: TrackletFeatureConfig,
) -> tuple[np.ndarray, str]:
    """Unit feature rows, one per tracklet (the mean of its chosen frames), and where they came from: the
    features ``rfv track`` stored when ``model`` made them, else ``model`` run on the crops."""
    rows = [chosen[chosen_frames(len(chosen), config.frames_per_tracklet)] for chosen in tracklets["rows"]]
    if model.identity is not None and config.reuse_features:
        try:
            stored = read_stored_features(store, index, model.identity)
        except InputError as error:
            log.info("stored features not reused: %s", error)
        else:
            pooled = pool_frames(stored[np.concatenate(rows)], [len(r) for r in rows])
            return normalize_rows(pooled), f"stored by rfv track ({model.name})"
    paths = index["path"].to_numpy()
    if (paths[np.concatenate(rows)] == "").any():
        raise InputError(store.index_path, "some tracklets have no crop paths: nothing to embed")
    crops = [[str(store.resolve(p)) for p in paths[r]] for r in rows]
    features = tracklet_features(crops, model.embed, frames_per_tracklet=0, batch_size=config.batch_size)
    return normalize_rows(
        features
    ), f"embedded ({model.name}, {config.frames_per_tracklet or 'all'} frames per tracklet)"


def _threshold(
    features: np.ndarray, spans: Spans, config: AssociateConfig, index_path: Path
) -> tuple[float, str, int]:
    if config.threshold is not None:
        return config.threshold, "threshold (fixed)", 0
    found = link_threshold(features, spans, config.quantile)
    if found is None:
        log.warning(
            "%s: no two tracklets of one camera overlap in time, so nothing tells how close different "
            "people come: nothing linked (give threshold=DISTANCE to link)",
            index_path,
        )
        return 0.0, "none: no two tracklets of one camera seen together (nothing linked)", 0
    value, pairs = found
    return value, f"quantile {config.quantile:g} of {pairs} pairs of tracklets seen together", pairs


def _transit(
    config: AssociateConfig,
    cameras: list[str],
    features: np.ndarray,
    spans: Spans,
    journeys_of: Callable[[float], pd.DataFrame],
) -> tuple[np.ndarray | None, str]:
    """The least transit times to apply (None: none) and where they came from."""
    if config.topology:
        return read_topology(config.topology, cameras), f"topology {config.topology}"
    if not config.learn_transit or not np.isfinite(spans.first_s).all():  # a simulated store has no times
        return None, "none"
    found = link_threshold(features, spans, config.quantile / 4)
    if found is None:
        return None, "none: no confident links to learn from"
    transits = transit_times(journeys_of(found[0]))
    learnt = learnt_transit(transits, cameras)
    return learnt, f"learnt from confident links (quantile {config.quantile / 4:g}), halved"


def _write_mot(store: Path, index: pd.DataFrame, journeys: pd.DataFrame, out: Path) -> None:
    """Per camera, the store's MOT file (``mot/<camera>.txt``, every box the tracker wrote) or, without one,
    the index's boxes, with identities as ids; a track with no crop in the index gets an identity of its
    own."""
    identity = journeys.set_index(["camera", "track"])["identity"]
    spare = int(journeys["identity"].max()) + 1
    for camera in sorted(journeys["camera"].unique()):
        source = store / "mot" / f"{camera}.txt"
        if source.is_file():
            table = read_mot(source, kind="result")
        else:
            rows = index[index["camera"] == camera]
            table = pd.DataFrame(
                {"frame": rows["frame"], "id": rows["track"], "x": rows["x"], "y": rows["y"], "w": rows["w"],
                 "h": rows["h"], "conf": rows["score"]}
            )  # fmt: skip
        ids = (
            identity.xs(camera, level="camera")
            if camera in identity.index.get_level_values(0)
            else pd.Series(dtype=int)
        )
        mapped = table["id"].map(ids)
        unknown = sorted(set(table.loc[mapped.isna(), "id"]))
        extra = {track: spare + k for k, track in enumerate(unknown)}
        spare += len(unknown)
        table = table.assign(id=mapped.fillna(table["id"].map(extra)).astype(np.int64))
        write_mot(out / f"{camera}.txt", table.sort_values(["frame", "id"], kind="stable"))
