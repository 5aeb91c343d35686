"""``rfv embed``: features of every crop of a folder or a tracklet store with a model file, as a ``.npy``
(float32, one L2-normalised row per crop) and an index CSV beside it saying which crop each row is.

``features.npy`` gets ``features.csv``: ``row, path`` (relative to the input folder or store, or absolute),
and for a store its index columns (camera, track, frame, time_s, box, score, gt_id). Both files are
written atomically (a temporary name, then a rename), the index last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.config import save_config
from reid_from_video.core.errors import ConfigError
from reid_from_video.core.lock import output_lock
from reid_from_video.embed.features import tracklet_features
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.export.config import EmbedConfig
from reid_from_video.export.crops import list_crops


@dataclass(frozen=True)
class EmbedResult:
    """What ``rfv embed`` did: the input, the model, and the files written."""

    input: str
    kind: str  # folder, image or store
    crops: int
    feature_dim: int
    model: str
    format: str
    device: str
    features: str
    index: str
    config: str

    def summary(self) -> str:
        return (
            f"{self.crops} crops of {self.input} ({self.kind}) -> {self.feature_dim}-d features with "
            f"{self.model} ({self.format}, {self.device})\n\n"
            f"wrote {self.features}, {self.index}, {self.config}"
        )


def index_path(features_path: Path) -> Path:
    """The index CSV of a features file: ``features.npy`` -> ``features.csv``."""
    return features_path.with_suffix(".csv")


def run_embed(
    crops_or_store: str | Path, model_path: str | Path, out: str | Path, config: EmbedConfig
) -> EmbedResult:
    """``rfv embed``: embed every crop; write ``out`` (.npy), its index CSV and the config beside them."""
    out = Path(out)
    if out.suffix != ".npy":
        raise ConfigError(f"--out {out}: the features file must end in .npy")
    crops = list_crops(crops_or_store)
    model = ReidModel.load(model_path, config.device)
    # Every crop is its own one-frame tracklet: the mean of one row is that row. Images are read by
    # threads, a few batches ahead of the model.
    paths = [[str(p)] for p in crops.files]
    embed = _batch_embed(model, config.batch)
    features = tracklet_features(paths, embed, 0, config.batch, config.progress).astype(np.float32)
    with output_lock(out, is_file=True):  # the two files (and the config) of one run, never of two
        with atomic_write(out, "wb") as handle:
            np.save(handle, features, allow_pickle=False)
        with atomic_write(index_path(out)) as handle:
            crops.table.to_csv(handle, index=False)
        config_file = save_config(config, out.parent, f"{out.stem}.config.yaml")
    return EmbedResult(
        input=str(crops.root if crops.kind != "image" else crops.files[0]),
        kind=crops.kind,
        crops=len(crops),
        feature_dim=int(features.shape[1]),
        model=str(model.path),
        format=model.format,
        device=str(model.device),
        features=str(out),
        index=str(index_path(out)),
        config=str(config_file),
    )


def _batch_embed(model: ReidModel, batch: int) -> Any:
    def embed(images: list[np.ndarray]) -> np.ndarray:
        return model.embed(images, batch_size=batch)

    return embed
