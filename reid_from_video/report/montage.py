"""Sample tracklets per training label for the report's montage: crops read from the tracklet store, shrunk
and re-encoded as ``data:image/jpeg;base64`` URIs, each with its path in the store.

The labels come from an ``rfv label`` folder: ``labels.csv`` keyed by (camera, track) or, for TMC, by
(camera, track, sub_track) with ``sub_tracks.csv`` giving each frame's sub-tracklet. The labels shown are
the ones that gather the most cameras, then the most tracklets (cross-camera associations are what a
reader wants to check by eye); without labels, the longest tracklets are shown.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from reid_from_video.core.errors import InputError
from reid_from_video.io.store import SUB_TRACK, TrackletStore
from reid_from_video.report.config import MontageConfig
from reid_from_video.report.sections import read_table


@dataclass
class Crop:
    path: str  # as in the store's index (relative to the store root, or absolute)
    frame: int
    uri: str | None  # None: the file could not be read


@dataclass
class TrackletSample:
    camera: str
    track: int
    sub_track: int | None
    frames: int  # frames of the (sub-)tracklet in the index
    first_frame: int
    last_frame: int
    gt_ids: list[int]  # ground-truth ids of its frames, when the index has them
    crops: list[Crop] = field(default_factory=list)


@dataclass
class LabelSample:
    label: int | None  # None: no labels, a tracklet on its own
    units: int  # (sub-)tracklets with this label
    cameras: int
    tracklets: list[TrackletSample] = field(default_factory=list)


def crop_uri(path: Path, height: int) -> str | None:
    """The image at ``path`` shrunk to ``height`` (aspect kept) as a JPEG data URI; None if unreadable."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        return None
    if image.shape[0] > height:
        width = max(1, round(image.shape[1] * height / image.shape[0]))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii") if ok else None


def _labelled_rows(
    index: pd.DataFrame, labels_dir: Path | None, given: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, bool]:
    """The index rows with ``sub_track`` and ``label`` columns (label -1: none; no labels.csv: all -1), and
    whether the labels are keyed by sub-tracklets (TMC). ``given``: a (camera, track, label) table instead
    of labels.csv."""
    if given is not None:
        merged = index.assign(sub_track=0).merge(
            given[["camera", "track", "label"]], on=["camera", "track"], how="left"
        )
        return merged.assign(label=merged["label"].fillna(-1).astype(np.int64)), False
    if labels_dir is None or not (labels_dir / "labels.csv").is_file():
        return index.assign(sub_track=0, label=-1), False
    labels_path = labels_dir / "labels.csv"
    labels = read_table(labels_path)
    key = ["camera", "track"]
    rows = index.assign(sub_track=0)
    by_sub_track = SUB_TRACK in labels.columns
    if by_sub_track:
        sub_path = labels_dir / "sub_tracks.csv"
        if not sub_path.is_file():
            raise InputError(sub_path, f"not found, and {labels_path.name} is keyed by sub-tracklets")
        sub_tracks = read_table(sub_path)[["camera", "track", "frame", SUB_TRACK]]
        rows = index.merge(sub_tracks, on=["camera", "track", "frame"])  # dropped frames leave
        key.append(SUB_TRACK)
    merged = rows.merge(labels[[*key, "label"]], on=key, how="left")
    return merged.assign(label=merged["label"].fillna(-1).astype(np.int64)), by_sub_track


def spread(count: int, wanted: int) -> list[int]:
    """``wanted`` positions spread evenly over ``count`` (all when fewer)."""
    if count <= wanted:
        return list(range(count))
    return sorted({round(i * (count - 1) / (wanted - 1)) for i in range(wanted)}) if wanted > 1 else [0]


def _tracklet(store: TrackletStore, unit: pd.DataFrame, config: MontageConfig, sub: bool) -> TrackletSample:
    unit = unit.sort_values("frame")
    first = unit.iloc[0]
    gt = sorted({int(g) for g in unit["gt_id"].dropna()})
    sample = TrackletSample(
        camera=str(first["camera"]),
        track=int(first["track"]),
        sub_track=int(first[SUB_TRACK]) if sub else None,
        frames=len(unit),
        first_frame=int(unit["frame"].iloc[0]),
        last_frame=int(unit["frame"].iloc[-1]),
        gt_ids=gt,
    )
    for position in spread(len(unit), config.frames):
        row = unit.iloc[position]
        path = str(row["path"])
        uri = crop_uri(store.resolve(path), config.height) if path else None
        sample.crops.append(Crop(path=path, frame=int(row["frame"]), uri=uri))
    return sample


def sample_tracklets(
    store_dir: Path, labels_dir: Path | None, config: MontageConfig, labels: pd.DataFrame | None = None
) -> list[LabelSample]:
    """Up to ``config.labels`` labels (or, without labels, single tracklets), each with up to
    ``config.tracklets`` (sub-)tracklets of ``config.frames`` crops; ``labels``: a (camera, track, label)
    table instead of ``labels_dir``'s (e.g. ``rfv associate``'s identities)."""
    store = TrackletStore(store_dir)
    rows, sub = _labelled_rows(store.read_index(), labels_dir, labels)
    units = rows.groupby(["camera", "track", SUB_TRACK], sort=True)
    table = units.agg(label=("label", "first"), frames=("frame", "size")).reset_index()
    labelled = bool((table["label"] >= 0).any())
    if labelled:
        table = table[table["label"] >= 0]
        per_label = table.groupby("label").agg(cameras=("camera", "nunique"), units=("track", "size"))
        per_label = per_label.reset_index().sort_values(
            ["cameras", "units", "label"], ascending=[False, False, True]
        )
        chosen = per_label.head(config.labels)
    else:  # no labels: the longest tracklets, one group each
        table = table.assign(label=np.arange(len(table)))
        longest = table.sort_values(["frames", "camera", "track"], ascending=[False, True, True])
        chosen = longest.head(config.labels).assign(cameras=1, units=1)
    samples = []
    for _, label_row in chosen.iterrows():
        label = int(label_row["label"])
        members = table[table["label"] == label]
        # Different cameras first, then the longest tracklets.
        members = members.sort_values(["frames", "camera", "track"], ascending=[False, True, True])
        members = members.assign(rank=members.groupby("camera").cumcount()).sort_values("rank", kind="stable")
        sample = LabelSample(
            label=label if labelled else None,
            units=int(label_row["units"]),
            cameras=int(label_row["cameras"]),
        )
        for _, member in members.head(config.tracklets).iterrows():
            key = (member["camera"], member["track"], member[SUB_TRACK])
            sample.tracklets.append(_tracklet(store, units.get_group(key), config, sub))
        samples.append(sample)
    return samples
