"""``run_search``: a store's tracklets ranked for a query person (person search, what an operator does with
the model): the query is the mean feature of one or more crops of the person; each tracklet the mean of a
few of its crops (:func:`reid_from_video.associate.run.tracklet_features_of`); ranked by cosine distance.

Outputs in the search folder: ``ranking.csv`` (rank, distance, camera, track, first / last frame and time,
frames; the ``top`` nearest), ``search.json`` and ``config.yaml``; ``rfv search`` adds ``search.html``
(the query crops and the ranked tracklets' crops, written by the report layer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reid_from_video.associate.config import SearchConfig
from reid_from_video.associate.run import embedded_tracklets, feature_model
from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.config import save_config
from reid_from_video.core.distances import normalize_rows
from reid_from_video.core.errors import InputError
from reid_from_video.core.lock import output_lock
from reid_from_video.io.results import StageResult

log = logging.getLogger(__name__)
RANKING_FILE = "ranking.csv"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class SearchResult(StageResult):
    """``search.json``: what was searched, where, with what."""

    FILE = "search.json"

    store: str = ""
    model: str = ""
    features: str = ""
    queries: tuple[str, ...] = ()
    tracklets: int = 0
    ranked: int = 0
    nearest_distance: float | None = None

    def summary(self) -> str:
        return (
            f"{self.tracklets} tracklets ranked for {len(self.queries)} query crop(s); the nearest at "
            f"{self.nearest_distance:.3f}"
            if self.nearest_distance is not None
            else "nothing ranked"
        )


def query_files(paths: list[str | Path]) -> list[Path]:
    """The image files of ``paths`` (files, or folders searched recursively, sorted)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise InputError(path, "no image (.jpg, .png, .bmp) in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(path, "query crop not found")
    return files


def query_crops(files: list[Path]) -> list[np.ndarray]:
    crops = []
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            raise InputError(path, "cannot read as an image")
        crops.append(image)
    return crops


def run_search(
    store: str | Path, queries: list[str | Path], out: str | Path, config: SearchConfig, model: str | Path
) -> SearchResult:
    """``rfv search``: rank ``store``'s tracklets for the person in ``queries`` into ``out``."""
    files = query_files(queries)
    crops = query_crops(files)
    features_by = feature_model(str(model), config)  # loaded once: the tracklets and the query
    found = embedded_tracklets(store, features_by, config)
    folder, tracklets, features = found.folder, found.tracklets, found.features
    query = normalize_rows(features_by.embed(crops).mean(axis=0, keepdims=True))[0]
    distance = 1.0 - features @ query
    order = np.argsort(distance, kind="stable")[: config.top]
    ranking = tracklets.drop(columns="rows").iloc[order].assign(distance=distance[order].round(6))
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    columns = [
        "rank",
        "distance",
        "camera",
        "track",
        "first_frame",
        "last_frame",
        "first_s",
        "last_s",
        "frames",
    ]
    result = SearchResult(
        store=str(folder),
        model=str(model),
        features=found.source,
        queries=tuple(str(f) for f in files),
        tracklets=len(tracklets),
        ranked=len(ranking),
        nearest_distance=float(ranking["distance"].iloc[0]) if len(ranking) else None,
    )
    with output_lock(out):
        out = Path(out)
        with atomic_write(out / RANKING_FILE) as handle:
            ranking[columns].to_csv(handle, index=False)
        result.write(out)
        save_config(config, out)
    return result
