"""Which crops to embed: a folder of images (recursive, sorted by relative path), one image, or a tracklet
store (its index, in index order). Each crop comes with the row that ``rfv embed`` writes to its index."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from reid_from_video.core.errors import InputError
from reid_from_video.io.store import TrackletStore

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass
class CropList:
    """The image files to embed (``files``, in row order) and the index table (``row``, ``path`` relative
    to ``root`` or absolute, and for a store its index columns: camera, track, frame, ...)."""

    root: Path
    kind: str  # "store", "folder" or "image"
    files: list[Path]
    table: pd.DataFrame

    def __len__(self) -> int:
        return len(self.files)


def is_store(path: Path) -> bool:
    """A tracklet store: a folder with ``index.csv`` or per-camera ``index/*.csv`` parts."""
    return path.is_dir() and ((path / "index.csv").is_file() or TrackletStore(path).complete_cameras() != [])


def list_crops(path: str | Path) -> CropList:
    """The crops of a store, a folder or one image; an :class:`InputError` naming ``path`` when there are
    none (or a store row has no image)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "not found: expected a folder of crop images or a tracklet store")
    if is_store(path):
        return _store_crops(path)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(path, f"not an image ({', '.join(IMAGE_SUFFIXES)}), a folder or a store")
        return CropList(path.parent, "image", [path], _table([path.name]))
    files = sorted(
        (p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(path).as_posix(),
    )
    if not files:
        raise InputError(path, f"no images ({', '.join(IMAGE_SUFFIXES)}) in this folder or below")
    return CropList(path, "folder", files, _table([p.relative_to(path).as_posix() for p in files]))


def _store_crops(root: Path) -> CropList:
    store = TrackletStore(root)
    index = store.read_index()
    if index.empty:
        raise InputError(store.index_path, "the store's index has no rows")
    missing = index["path"] == ""
    if missing.any():
        first = index[missing].iloc[0]
        raise InputError(
            store.index_path,
            f"{int(missing.sum())} rows have no crop path (first: camera {first.camera}, track "
            f"{first.track}, frame {first.frame}): embedding needs the images",
        )
    table = index.reset_index(drop=True)
    table.insert(0, "row", np.arange(len(table)))
    files = [store.resolve(p) for p in table["path"]]
    return CropList(root, "store", files, table)


def _table(paths: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"row": np.arange(len(paths)), "path": paths})


def read_crop(path: str | Path) -> np.ndarray:
    """A BGR uint8 image (grey and alpha images converted), or an :class:`InputError` naming the file."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(path, "cannot read the image")
    return image
