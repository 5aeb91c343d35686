"""Training frames: which image files, from which camera, in which (sub-)tracklet, with which label.

Sources (``rfv train DATA``):

* a tracklet store (``index.csv``: ``rfv track``, or ``rfv simulate`` on MARS), with the outputs of
  ``rfv label`` (``--labels DIR``: ``labels.csv`` keyed by (camera, track[, sub_track]), and for TMC
  ``sub_tracks.csv``: the crops of every isolated sub-tracklet);
* a MARS root (its train split, images under ``bbox_train/``): every tracklet is a unit, and for TAUDL every
  tracklet its own label in its camera, which is how TAUDL trains on MARS.

Frames are rows sorted by (camera, track, sub_track, frame); a *unit* is what TMC associates and TAUDL's CCTA
averages: a sub-tracklet with isolation, else a whole tracklet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.core.errors import InputError
from reid_from_video.io.mars import frames_table, load_mars
from reid_from_video.io.store import SUB_TRACK, TrackletStore, check_labels
from reid_from_video.labels.tmc import DROPPED

# The label of a frame no loss sees (unlabelled, or left out by the association): labels.tmc.DROPPED.
NOT_TRAINED = DROPPED
LABELS_FILE = "labels.csv"
SUB_TRACKS_FILE = "sub_tracks.csv"


@dataclass(frozen=True)
class TrainFrames:
    """One entry per training image, in unit order (frames of a unit consecutive, in frame order)."""

    paths: list[str]  # image files
    camera: np.ndarray  # int64, 0 .. T-1: index into camera_names
    camera_names: list[str]
    unit: np.ndarray  # int64, 0 .. U-1: the (sub-)tracklet
    label: np.ndarray  # int64, the label from --labels (NOT_TRAINED where none)
    gt_id: np.ndarray  # float64 person id where known (NaN otherwise): for reports only
    source: str
    frame: np.ndarray | None = None  # int64 frame number in its camera's video; None: not known (MARS,
    # rfv simulate's stores)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def num_units(self) -> int:
        return int(self.unit.max()) + 1 if len(self.unit) else 0

    def unit_rows(self) -> list[np.ndarray]:
        """The frame rows of every unit, in frame order."""
        starts = np.flatnonzero(np.r_[True, self.unit[1:] != self.unit[:-1]])
        return np.split(np.arange(len(self.unit)), starts[1:])


def load_train_frames(
    data: str | Path, labels: str | Path | None, sub_tracks: bool, min_frames: int = 1
) -> TrainFrames:
    """The frames of a store or MARS root ``data``; ``labels``: a ``rfv label`` output folder (or its
    labels.csv); ``sub_tracks``: units are the isolated sub-tracklets of ``labels``/sub_tracks.csv."""
    data = Path(data)
    index, source, timed = _source_index(data)
    folder = None if labels is None else (Path(labels) if Path(labels).is_dir() else Path(labels).parent)
    if sub_tracks:
        if folder is None:
            raise InputError(data, "isolated sub-tracklets need --labels (the rfv label -c tmc output)")
        index = _join_sub_tracks(index, folder / SUB_TRACKS_FILE)
    else:
        index = index.assign(sub_track=0)
    if folder is not None:
        labels_path = Path(labels) if Path(labels).is_file() else folder / LABELS_FILE  # type: ignore[arg-type]
        index = _join_labels(index, labels_path, sub_tracks)
    else:
        index = index.assign(label=NOT_TRAINED)
    keys = ["camera", "track", "sub_track"]
    index = index.sort_values([*keys, "frame"], kind="stable").reset_index(drop=True)
    sizes = index.groupby(keys, sort=False)["frame"].transform("size")
    index = index[sizes >= min_frames].reset_index(drop=True)
    if index.empty:
        raise InputError(data, f"no (sub-)tracklet has {min_frames} or more frames: nothing to train on")
    camera_names = sorted(index["camera"].unique())
    unit = index.groupby(keys, sort=False).ngroup().to_numpy(np.int64)
    return TrainFrames(
        paths=index["path"].tolist(),
        camera=index["camera"].map({c: i for i, c in enumerate(camera_names)}).to_numpy(np.int64),
        camera_names=camera_names,
        unit=unit,
        label=index["label"].to_numpy(np.int64),
        gt_id=index["gt_id"].to_numpy(np.float64),
        source=source,
        frame=index["frame"].to_numpy(np.int64) if timed else None,
    )


def every_unit_labelled(frames: TrainFrames) -> TrainFrames:
    """Every unit its own label (numbered camera by camera): TAUDL's labelling of MARS's tracklets."""
    first = np.flatnonzero(np.r_[True, frames.unit[1:] != frames.unit[:-1]])
    order = np.lexsort((first, frames.camera[first]))  # units camera by camera
    unit_label = np.empty(len(first), np.int64)
    unit_label[order] = np.arange(len(first))
    return _with_label(frames, unit_label[frames.unit])


def camera_local_labels(frames: TrainFrames) -> tuple[np.ndarray, list[int]]:
    """TAUDL's per-camera label spaces: every frame's label within its camera (0 .. M_t - 1, or
    NOT_TRAINED) and M_t for every camera. A label seen in two cameras is an error."""
    labelled = frames.label != NOT_TRAINED
    pairs = pd.DataFrame({"label": frames.label[labelled], "camera": frames.camera[labelled]})
    spans = pairs.groupby("label")["camera"].nunique()
    if (spans > 1).any():
        raise InputError(
            frames.source,
            f"label {int(spans.index[spans > 1][0])} spans several cameras: TAUDL's labels are "
            "per camera (rfv label -c taudl gives them)",
        )
    local = np.full(len(frames), NOT_TRAINED, np.int64)
    sizes = []
    for camera in range(len(frames.camera_names)):
        rows = np.flatnonzero(labelled & (frames.camera == camera))
        values, inverse = np.unique(frames.label[rows], return_inverse=True)
        local[rows] = inverse
        sizes.append(len(values))
    return local, sizes


def _with_label(frames: TrainFrames, label: np.ndarray) -> TrainFrames:
    return replace(frames, label=label)


def _source_index(data: Path) -> tuple[pd.DataFrame, str, bool]:
    """(camera, track, frame, path, gt_id) of every image, paths resolved; what the data is; whether its
    frame numbers are the video's (a tracked store) rather than positions in a tracklet (MARS, a
    simulated store)."""
    if (data / "index.csv").is_file():
        store = TrackletStore(data)
        index = store.read_index()
        if (index["path"] == "").any():
            raise InputError(store.index_path, "some rows have no crop path: training needs the images")
        paths = [str(store.resolve(p)) for p in index["path"]]
        table = index[["camera", "track", "frame", "gt_id"]].assign(path=paths)
        # A tracked store numbers frames by the video (and times them); rfv simulate's counts positions in
        # the tracklet and keeps no time (time_s NaN).
        return table, f"tracklet store {data}", bool(index["time_s"].notna().all())
    if not data.exists():
        raise InputError(data, "not found: expected a tracklet store (index.csv) or a MARS root")
    dataset = load_mars(data)
    if not dataset.has_images:
        raise InputError(data, "a MARS root without bbox_train/: training needs the images")
    train = frames_table(dataset.train)
    table = pd.DataFrame(
        {
            "camera": [f"c{c}" for c in train["camera"]],
            "track": train["tracklet"].to_numpy(np.int64),
            "frame": train["frame"].to_numpy(np.int64),
            "gt_id": train["pid"].to_numpy(np.float64),
            "path": train["path"].astype(str).to_numpy(),
        }
    )
    return table, f"MARS train ({dataset.root})", False


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(path, "not found (an rfv label output)")
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise InputError(path, f"cannot read as CSV: {error}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(path, f"missing columns {missing}")
    table["camera"] = table["camera"].astype(str)
    return table


def _join_sub_tracks(index: pd.DataFrame, path: Path) -> pd.DataFrame:
    table = _read_table(path, ("camera", "track", "frame", SUB_TRACK))
    joined = index.merge(table[["camera", "track", "frame", SUB_TRACK]], on=["camera", "track", "frame"])
    if len(joined) != len(table):
        raise InputError(path, f"{len(table) - len(joined)} rows match no crop of the store")
    return joined


def _join_labels(index: pd.DataFrame, path: Path, sub_tracks: bool) -> pd.DataFrame:
    table = _read_table(path, ("camera", "track", "label"))
    check_labels(table, path)
    if SUB_TRACK in table.columns and not sub_tracks and (table[SUB_TRACK] == 0).all():
        table = table.drop(columns=SUB_TRACK)  # rfv label without isolation: whole tracklets
    keys = ["camera", "track"] + ([SUB_TRACK] if SUB_TRACK in table.columns else [])
    if SUB_TRACK in keys and not sub_tracks:
        raise InputError(
            path, "labels of sub-tracklets: train with tmc.isolation=true, or label whole tracklets"
        )
    joined = index.merge(table[[*keys, "label"]], on=keys, how="left")
    joined["label"] = joined["label"].fillna(NOT_TRAINED).astype(np.int64)
    return joined
