"""The tracklet store: person crops as JPEG files plus one index table, and a labels table.

Layout of a store folder::

    crops/<camera>/<track>/<frame>.jpg   one crop per kept box (frame zero-padded to 6 digits)
    index/<camera>.csv                   the index rows of one camera; written last, so its presence
                                         means that camera is complete
    index.csv                            the merged index of all cameras (``finalize``)
    features/<camera>.npy                the tracker's appearance features, one float32 row per index row of
                                         the camera, in its order (when a re-ID model was the embedder and
                                         crops are unpadded)
    features/<camera>.json               what made them (model file sha256 and preprocessing), feature_dim,
                                         rows (see ``reid_from_video.io.stored_features``)
    labels.csv                           training labels keyed by (camera, track[, sub_track])

Index columns (one row per crop): camera, track, frame, time_s, x, y, w, h, score, path, gt_id. ``path`` is
relative to the store root, or absolute when the store points at images elsewhere (e.g. MARS). ``gt_id`` is
empty when the ground truth is unknown.

Every file is written atomically, the index part after the camera's features. A camera whose writer did not
finish has no index part, and its leftover crops and features are cleared when it is written again, so a
re-run redoes exactly the incomplete cameras.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write, atomic_write_bytes
from reid_from_video.core.errors import InputError
from reid_from_video.io.config import CropConfig
from reid_from_video.io.stored_features import rows_sha256, write_camera_features

INDEX_COLUMNS = ("camera", "track", "frame", "time_s", "x", "y", "w", "h", "score", "path", "gt_id")
LABEL_KEY = ("camera", "track")
SUB_TRACK = "sub_track"
_INDEX_DTYPES = {
    "camera": str,
    "track": "int64",
    "frame": "int64",
    "time_s": "float64",
    "x": "float64",
    "y": "float64",
    "w": "float64",
    "h": "float64",
    "score": "float64",
    "path": str,
    "gt_id": "Int64",
}


def crop_box(
    image: np.ndarray, x: float, y: float, w: float, h: float, padding: float = 0.0
) -> np.ndarray | None:
    """The image region of box (x, y, w, h) grown by ``padding`` and clipped to the image (a view).

    Returns None when nothing of the box lies inside the image.
    """
    height, width = image.shape[:2]
    x0 = int(round(x - padding * w))
    y0 = int(round(y - padding * h))
    x1 = int(round(x + w + padding * w))
    y1 = int(round(y + h + padding * h))
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return image[y0:y1, x0:x1]


def resize_crop(crop: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize to ``size`` = (width, height): area interpolation when shrinking, linear when enlarging."""
    if (crop.shape[1], crop.shape[0]) == tuple(size):
        return crop
    shrink = size[0] * size[1] < crop.shape[0] * crop.shape[1]
    return cv2.resize(crop, tuple(size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def crop_relpath(camera: str, track: int, frame: int) -> str:
    return f"crops/{camera}/{track}/{frame:06d}.jpg"


class TrackletStore:
    """A store folder (see the module docstring). Creating the object creates nothing on disk."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.index_path = self.root / "index.csv"
        self.parts_dir = self.root / "index"
        self.labels_path = self.root / "labels.csv"

    def part_path(self, camera: str) -> Path:
        return self.parts_dir / f"{camera}.csv"

    def is_complete(self, camera: str) -> bool:
        return self.part_path(camera).is_file()

    def complete_cameras(self) -> list[str]:
        if not self.parts_dir.is_dir():
            return []
        return sorted(p.stem for p in self.parts_dir.glob("*.csv"))

    def features_path(self, camera: str) -> Path:
        return self.root / "features" / f"{camera}.npy"

    def features_card_path(self, camera: str) -> Path:
        return self.root / "features" / f"{camera}.json"

    def camera_writer(
        self, camera: str, crop: CropConfig | None = None, features: dict[str, Any] | None = None
    ) -> CameraWriter:
        """A writer for one camera; any crops left by an earlier, unfinished writer are removed.

        ``features``: the identity of the embedder whose features are stored with the crops (then every
        :meth:`CameraWriter.add` gives one); None stores none."""
        _check_camera_name(camera)
        return CameraWriter(self, camera, crop or CropConfig(), features)

    def remove_camera(self, camera: str) -> None:
        """Delete the camera's index part, features and crops (the merged index is rewritten by finalize)."""
        _check_camera_name(camera)
        self.part_path(camera).unlink(missing_ok=True)  # first: the camera is no longer complete
        self.features_path(camera).unlink(missing_ok=True)
        self.features_card_path(camera).unlink(missing_ok=True)
        camera_dir = self.root / "crops" / camera
        if camera_dir.exists():
            shutil.rmtree(camera_dir)

    def resolve(self, path: str) -> Path:
        """The file of an index ``path`` entry (relative to the store root, or absolute)."""
        return self.root / path

    def finalize(self) -> pd.DataFrame:
        """Merge the per-camera parts into ``index.csv`` (atomically) and return the merged table."""
        cameras = self.complete_cameras()
        if not cameras:
            raise InputError(self.root, "no complete camera in this store (index/<camera>.csv missing)")
        table = pd.concat([read_index_table(self.part_path(c)) for c in cameras], ignore_index=True)
        write_index_table(self.index_path, table)
        return table

    def read_index(self) -> pd.DataFrame:
        if not self.index_path.is_file():
            hint = " (cameras are complete but not merged: call finalize)" if self.complete_cameras() else ""
            raise InputError(self.index_path, f"tracklet index not found{hint}")
        return read_index_table(self.index_path)

    def write_labels(self, labels: pd.DataFrame) -> Path:
        """Write the labels table: keys camera, track (and optionally sub_track), and a ``label`` column."""
        check_labels(labels, self.labels_path)
        with atomic_write(self.labels_path) as handle:
            labels.to_csv(handle, index=False)
        return self.labels_path

    def read_labels(self) -> pd.DataFrame:
        if not self.labels_path.is_file():
            raise InputError(self.labels_path, "labels table not found")
        labels = pd.read_csv(self.labels_path, dtype={"camera": str})
        check_labels(labels, self.labels_path)
        return labels


class CameraWriter:
    """Collects the crops and index rows of one camera; ``close`` marks the camera complete.

    Use as a context manager: if the block raises, the camera stays incomplete (no index part is written).
    """

    def __init__(
        self, store: TrackletStore, camera: str, crop: CropConfig, features: dict[str, Any] | None = None
    ):
        self.store = store
        self.camera = camera
        self.crop = crop
        self.features = features
        self._rows: list[tuple] = []
        self._features: list[np.ndarray] = []  # one per row, when features are stored
        self._seen_per_track: dict[int, int] = {}
        self.closed = False
        store.remove_camera(camera)  # leftovers of an interrupted run: never index stale crops

    def add(
        self,
        track: int,
        frame: int,
        time_s: float,
        box: tuple[float, float, float, float],
        score: float,
        image: np.ndarray,
        gt_id: int | None = None,
        feature: np.ndarray | None = None,
    ) -> bool:
        """Cut, save and index the crop of ``box`` = (x, y, w, h) in ``image``; False when not kept.

        ``feature``: the embedder's feature of ``box``, kept with the row (required when this writer stores
        features)."""
        if self.closed:
            raise RuntimeError(f"camera writer {self.camera!r} is closed")
        if self.features is not None and feature is None:
            raise ValueError(f"camera writer {self.camera!r} stores features: every crop needs one")
        seen = self._seen_per_track.get(track, 0)
        self._seen_per_track[track] = seen + 1
        if seen % self.crop.every:
            return False
        x, y, w, h = box
        patch = crop_box(image, x, y, w, h, self.crop.padding)
        if patch is None or patch.shape[0] < self.crop.min_height:
            return False
        if self.crop.size is not None:
            patch = resize_crop(patch, self.crop.size)
        relpath = crop_relpath(self.camera, int(track), int(frame))
        target = self.store.resolve(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, encoded = cv2.imencode(".jpg", patch, [cv2.IMWRITE_JPEG_QUALITY, self.crop.jpeg_quality])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {relpath}")
        atomic_write_bytes(target, encoded.tobytes())
        if self.features is not None:  # appended with its row, so the two stay in step
            self._features.append(np.array(feature, np.float32).ravel())
        self._rows.append(
            (
                self.camera,
                int(track),
                int(frame),
                float(time_s),
                float(x),
                float(y),
                float(w),
                float(h),
                float(score),
                relpath,
                gt_id,
            )
        )
        return True

    def close(self) -> pd.DataFrame:
        """Write this camera's features (when stored) and then its index part, each atomically; return the
        index part."""
        table = pd.DataFrame(self._rows, columns=list(INDEX_COLUMNS))
        if self.features is not None:
            key = rows_sha256(table["track"].to_numpy(np.int64), table["frame"].to_numpy(np.int64))
            npy, card = self.store.features_path(self.camera), self.store.features_card_path(self.camera)
            write_camera_features(npy, card, self._features, self.features, key)
        write_index_table(self.store.part_path(self.camera), table)
        self.closed = True
        return table

    def __enter__(self) -> CameraWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None and not self.closed:
            self.close()


def write_index_table(path: Path, table: pd.DataFrame) -> None:
    missing = [c for c in INDEX_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"index table lacks columns {missing}")
    table = _typed_index(table[list(INDEX_COLUMNS)], path)
    with atomic_write(path) as handle:
        table.to_csv(handle, index=False)


def read_index_table(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype={"camera": str, "path": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise InputError(path, f"cannot read the index table: {error}") from None
    missing = [c for c in INDEX_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"index table lacks columns {missing}; expected {list(INDEX_COLUMNS)}")
    # An unknown path (e.g. simulated MARS tracklets from the .mat files alone) is written as an empty field.
    table["path"] = table["path"].fillna("")
    return _typed_index(table[list(INDEX_COLUMNS)], path)


def _typed_index(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    try:
        return table.astype(_INDEX_DTYPES)
    except (ValueError, TypeError) as error:
        raise InputError(path, f"index table has a value of the wrong type: {error}") from None


def check_labels(labels: pd.DataFrame, path: Path) -> None:
    """A labels table has the key columns, an integer ``label`` column and unique keys."""
    key = list(LABEL_KEY) + ([SUB_TRACK] if SUB_TRACK in labels.columns else [])
    missing = [c for c in [*key, "label"] if c not in labels.columns]
    if missing:
        raise InputError(path, f"labels table lacks columns {missing}")
    if not pd.api.types.is_integer_dtype(labels["label"]):
        raise InputError(path, "labels table: column 'label' must hold integers")
    duplicated = labels.duplicated(subset=key)
    if duplicated.any():
        first = dict(zip(key, labels.loc[duplicated, key].iloc[0].tolist(), strict=True))
        raise InputError(path, f"labels table: key {first} appears more than once")


def _check_camera_name(camera: str) -> None:
    if not camera or camera in (".", "..") or any(c in camera for c in "/\\\0"):
        raise ValueError(f"invalid camera name {camera!r}: it names a folder of the store")
