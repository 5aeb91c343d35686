"""The tracker's appearance features kept in the tracklet store, so that ``rfv label`` need not embed every
crop a second time.

Per camera, beside its index part: ``features/<camera>.npy`` (float32, one row per row of
``index/<camera>.csv``, in its order) and ``features/<camera>.json``::

    {"identity": {...}, "feature_dim": 512, "rows": 812, "rows_sha256": "..."}

``identity`` says what made the features (:mod:`reid_from_video.embed.identity`: a model's file sha256 and
preprocessing); ``rows_sha256`` hashes the (track, frame) pairs of the rows they belong to. They are the
features of the detection box cut from the decoded frame, before it is resized to ``crops.size`` and
JPEG-encoded: the tracker stores them only when the saved crop shows that same box (``crops.padding`` 0).
A model's features of the saved crop differ from them by JPEG's (and the resize's) error: mean cosine 0.998
on a synthetic world, 0.990 on PETS09 with 64 x 128 crops, where TMC's labels from either score alike.

Nothing read here is trusted: a reader checks identity, row keys, shape, dtype, finiteness and unit length,
and every problem is an :class:`InputError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write, write_json
from reid_from_video.core.errors import InputError

if TYPE_CHECKING:
    from reid_from_video.io.store import TrackletStore

DTYPE = np.dtype("<f4")
_CHUNK = 4096  # rows written or checked at a time
_NORM_TOLERANCE = 1e-3


def rows_sha256(tracks: Sequence[int] | np.ndarray, frames: Sequence[int] | np.ndarray) -> str:
    """The hash of a camera's index rows, in order, by their (track, frame) keys."""
    digest = hashlib.sha256(np.asarray(tracks, "<i8").tobytes())
    digest.update(np.asarray(frames, "<i8").tobytes())
    return digest.hexdigest()


def describe(identity: Mapping[str, Any]) -> str:
    """A short name for messages: the model's file name (``osnet_x0_25_msmt17.onnx``)."""
    return str(identity.get("file", identity.get("kind", "unknown")))


def difference(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> str | None:
    """Why features of ``stored`` are not those of ``wanted`` (the first key that differs), or None."""
    for key in sorted(set(stored) | set(wanted)):
        if key == "file":  # a renamed copy of the same bytes is the same model
            continue
        if stored.get(key) != wanted.get(key):
            return f"{key} {_short(stored.get(key))} != {_short(wanted.get(key))}"
    return None


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "..." if isinstance(value, str) and len(text) > 16 else text


def write_camera_features(
    npy: Path, card: Path, rows: Sequence[np.ndarray], identity: Mapping[str, Any], key: str
) -> None:
    """Write ``rows`` (1-d float32 arrays of one length) as ``npy`` and their description as ``card``, each
    atomically; the rows are streamed in chunks, never stacked into a second copy of the whole camera."""
    dim = len(rows[0]) if rows else 0
    header = {"descr": np.lib.format.dtype_to_descr(DTYPE), "fortran_order": False, "shape": (len(rows), dim)}
    with atomic_write(npy, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for start in range(0, len(rows), _CHUNK):
            handle.write(np.stack(rows[start : start + _CHUNK]).astype(DTYPE, copy=False).tobytes())
    write_json(card, {"identity": dict(identity), "feature_dim": dim, "rows": len(rows), "rows_sha256": key})


def read_stored_features(
    store: TrackletStore, index: pd.DataFrame, identity: Mapping[str, Any], feature_dim: int | None = None
) -> np.ndarray:
    """One stored feature row per ``index`` row (float32, in index order), made by ``identity``.

    ``feature_dim``: the width the embedder at hand gives, when known. Raises :class:`InputError` naming the
    file at the first problem: features missing for a camera, made by another embedder, stored for other
    index rows, or a file that is not a finite, unit-length float32 array of the right shape.
    """
    cameras = index["camera"].to_numpy()
    out: np.ndarray | None = None
    for camera in pd.unique(cameras):
        rows = np.flatnonzero(cameras == camera)
        part = index.iloc[rows]
        features = _read_camera(store, str(camera), part, identity, feature_dim)
        if out is None:
            out = np.empty((len(index), features.shape[1]), np.float32)
            feature_dim = features.shape[1]
        out[rows] = features
    return out if out is not None else np.zeros((0, feature_dim or 0), np.float32)


def _read_camera(
    store: TrackletStore,
    camera: str,
    part: pd.DataFrame,
    identity: Mapping[str, Any],
    feature_dim: int | None,
) -> np.ndarray:
    npy, card_path = store.features_path(camera), store.features_card_path(camera)
    if not card_path.is_file() or not npy.is_file():
        raise InputError(
            npy, "no stored features for this camera (rfv track ran without a re-ID model as its embedder, "
            "or saved padded crops)",
        )  # fmt: skip
    card = _read_card(card_path)
    if (why := difference(card["identity"], identity)) is not None:
        raise InputError(card_path, f"made by {describe(card['identity'])}, not {describe(identity)} ({why})")
    if card["rows_sha256"] != rows_sha256(part["track"], part["frame"]):
        raise InputError(card_path, f"stored for other index rows than the {len(part)} of camera {camera!r}")
    try:
        features = np.load(npy, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise InputError(npy, f"cannot read as a .npy array: {error}") from None
    expected = (len(part), feature_dim or card["feature_dim"])
    if features.dtype != DTYPE or features.ndim != 2:
        raise InputError(npy, f"expected a 2-d float32 array, found {features.dtype} {features.shape}")
    if features.shape != expected or features.shape[1] != card["feature_dim"]:
        raise InputError(
            npy, f"shape {features.shape}, expected {expected} (camera {camera!r}: index rows, feature width)"
        )
    for start in range(0, len(features), _CHUNK):
        chunk = np.asarray(features[start : start + _CHUNK])
        if not np.isfinite(chunk).all():
            raise InputError(npy, "features hold NaN or infinite values")
        norms = np.linalg.norm(chunk, axis=1)
        if not ((np.abs(norms - 1) < _NORM_TOLERANCE) | (norms == 0)).all():
            raise InputError(npy, "features are not of unit length (L2-normalised)")
    return np.asarray(features)


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(path, f"cannot read: {error}") from None
    fields = {"identity": dict, "feature_dim": int, "rows": int, "rows_sha256": str}
    if not isinstance(card, dict) or any(not isinstance(card.get(k), t) for k, t in fields.items()):
        raise InputError(path, f"expected a JSON object with {', '.join(fields)}")
    return card
