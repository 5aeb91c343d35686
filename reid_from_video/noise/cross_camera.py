"""Identity across cameras: the multi-camera IDF1 / IDP / IDR (Ristani et al. 2016, as the DukeMTMC and AI
City benchmarks score multi-camera tracking) and the cross-camera rFM / rSW.

The sequences are the cameras of one network, and the gt carries global ids: one person has one gt id in
every camera. The result's ids are global too (``result_ids="global"``: e.g. ``rfv associate``'s
identities) or per camera (``"per_camera"``: every camera's track a separate identity, the score of
tracking with no association across cameras).

Multi-camera identity metrics are the single-camera ones (TrackEval's / motmetrics' IDF1) with every camera
pooled: a (gt id, result id) pair may match in any frame of any camera in which their boxes overlap by at
least ``iou``; one assignment of result ids to gt ids over the whole network maximises the matched
detections, IDTP; IDFN = gt detections - IDTP, IDFP = result detections - IDTP; IDP = IDTP / (IDTP + IDFP),
IDR = IDTP / (IDTP + IDFN), IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN). A person whose tracks carry two
identities in two cameras is matched in one of them only.

Cross-camera rFM / rSW are the TMC paper's rates (:mod:`reid_from_video.noise.rfm_rsw`) over global
identities: per frame and camera, one-to-one matching at ``iou``; rFM = mean number of result identities per
matched person, rSW = mean number of persons per matched result identity, a pair counting when matched in
at least ``min_frames`` frames summed over the cameras.

Journeys: an identity's journey is the order of the cameras it visits (its visits sorted by their first
frame, a camera repeated back to back counted once; the cameras share one clock, frame k of each being the
same instant, as in ``rfv synth``'s worlds). A result identity's journey is right when, in every camera it
visits, the gt id it overlaps (at ``iou``) in the most frames is one and the same person, and its camera
sequence is that person's: an identity that takes another person in one camera, covers a camera where it
overlaps nobody, or follows its person through only part of the cameras, is wrong.
``journeys_right / journeys`` is the share of journeys whose camera sequence is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from reid_from_video.io.mot import BOX_COLUMNS
from reid_from_video.noise import rfm_rsw
from reid_from_video.noise.boxes import frame_slices, iou_xywh

ResultIds = Literal["global", "per_camera"]
EPS = np.finfo(float).eps
ID_RANGE = 1 << 32  # per_camera: camera k's tracks become ids k * ID_RANGE + id


@dataclass(frozen=True)
class CrossCameraScores:
    """The multi-camera identity metrics and cross-camera noise of a camera network."""

    idf1: float
    idp: float
    idr: float
    idtp: int
    idfp: int
    idfn: int
    persons: int  # distinct gt ids over all cameras
    identities: int  # distinct result identities over all cameras
    rfm: float | None
    rsw: float | None
    journeys_right: int = 0  # result identities whose camera sequence is their person's

    @property
    def journeys(self) -> int:
        """Every result identity is one journey."""
        return self.identities

    @property
    def journey_share(self) -> float:
        return self.journeys_right / self.journeys if self.journeys else float("nan")


def overlap_counts(gt: pd.DataFrame, result: pd.DataFrame, iou: float) -> pd.DataFrame:
    """(gt_id, track, frames): in how many frames of one sequence each gt id and result id overlap by at
    least ``iou`` (every such pair of a frame, as the identity metrics count potential matches)."""
    none = slice(0, 0)
    gt_rows = frame_slices(gt) if len(gt) else {}
    tr_rows = frame_slices(result) if len(result) else {}
    gt_ids, tr_ids = gt["id"].to_numpy(np.int64), result["id"].to_numpy(np.int64)
    gt_boxes, tr_boxes = gt[list(BOX_COLUMNS)].to_numpy(float), result[list(BOX_COLUMNS)].to_numpy(float)
    pairs = []
    for frame in gt_rows.keys() & tr_rows.keys():
        g, t = gt_rows.get(frame, none), tr_rows.get(frame, none)
        i, j = np.nonzero(iou_xywh(gt_boxes[g], tr_boxes[t]) >= iou - EPS)
        pairs.append(np.stack([gt_ids[g][i], tr_ids[t][j]], axis=1))
    stacked = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
    unique, frames = np.unique(stacked, axis=0, return_counts=True)
    return pd.DataFrame({"gt_id": unique[:, 0], "track": unique[:, 1], "frames": frames.astype(np.int64)})


def cross_camera_scores(
    cameras: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    result_ids: ResultIds = "global",
    iou: float = 0.5,
    min_frames: int = 1,
) -> CrossCameraScores:
    """The scores of the network whose ``cameras`` map a name to its (scored gt, result) tables."""
    overlaps, matches, gt_dets, result_dets, persons, identities = [], [], 0, 0, set(), set()
    gt_visits, result_visits = [], []
    for index, (gt, result) in enumerate(cameras.values()):
        result = _global_ids(result, index, result_ids)
        gt = gt.sort_values("frame", kind="stable").reset_index(drop=True)
        result = result.sort_values("frame", kind="stable").reset_index(drop=True)
        overlaps.append(overlap_counts(gt, result, iou))
        matches.append(rfm_rsw.match_tracklets(gt, result, iou))
        gt_dets, result_dets = gt_dets + len(gt), result_dets + len(result)
        persons.update(gt["id"].tolist())
        identities.update(result["id"].tolist())
        gt_visits.append(_visits(gt, index))
        result_visits.append(_visits(result, index))
    pairs = _summed(overlaps)
    idtp = _best_assignment(pairs)
    right = _right_journeys(overlaps, _journeys(result_visits), _journeys(gt_visits))
    idfn, idfp = gt_dets - idtp, result_dets - idtp
    noise = rfm_rsw.noise_rates(_summed(matches), len(identities), len(persons), min_frames)
    return CrossCameraScores(
        idf1=2 * idtp / max(1, 2 * idtp + idfp + idfn),
        idp=idtp / max(1, idtp + idfp),
        idr=idtp / max(1, idtp + idfn),
        idtp=idtp,
        idfp=idfp,
        idfn=idfn,
        persons=len(persons),
        identities=len(identities),
        rfm=None if np.isnan(noise.rfm) else noise.rfm,
        rsw=None if np.isnan(noise.rsw) else noise.rsw,
        journeys_right=right,
    )


def _visits(table: pd.DataFrame, camera: int) -> pd.DataFrame:
    """(id, camera, first): the first frame of each id in one camera."""
    first = table.groupby("id", sort=True)["frame"].min()
    return pd.DataFrame({"id": first.index.to_numpy(np.int64), "camera": camera, "first": first.to_numpy()})


def _journeys(visits: list[pd.DataFrame]) -> dict[int, tuple[int, ...]]:
    """Each id's cameras in the order of its first frame in each, a camera repeated back to back once."""
    table = pd.concat(visits, ignore_index=True).sort_values(["id", "first", "camera"], kind="stable")
    journeys = {}
    for identity, cameras in table.groupby("id", sort=False)["camera"]:
        sequence = cameras.to_numpy()
        keep = np.r_[True, sequence[1:] != sequence[:-1]]
        journeys[int(identity)] = tuple(int(c) for c in sequence[keep])
    return journeys


def _right_journeys(
    overlaps: list[pd.DataFrame], results: dict[int, tuple[int, ...]], persons: dict[int, tuple[int, ...]]
) -> int:
    """How many result identities follow one person, through exactly that person's cameras."""
    person_in: dict[int, list[int]] = {}  # identity -> its person in each camera where it overlaps one
    for pairs in overlaps:
        best = pairs.sort_values(["track", "frames", "gt_id"], ascending=[True, False, True], kind="stable")
        for track, gt_id in best.drop_duplicates("track")[["track", "gt_id"]].itertuples(index=False):
            person_in.setdefault(int(track), []).append(int(gt_id))
    right = 0
    for track, journey in results.items():
        found = person_in.get(track, [])
        whole = len(found) == len(set(journey)) and len(set(found)) == 1  # one person in every camera
        right += whole and persons[found[0]] == journey
    return right


def _global_ids(result: pd.DataFrame, camera: int, result_ids: ResultIds) -> pd.DataFrame:
    """``result`` with ids unique over the network: as they are (global), or the tracks of the ``camera``-th
    camera moved to a range of their own (per camera: no two cameras share an identity)."""
    if result_ids == "global":
        return result
    if result_ids != "per_camera":
        raise ValueError(f"result_ids must be global or per_camera, not {result_ids!r}")
    ids = result["id"].to_numpy(np.int64)
    if len(ids) and not 0 <= ids.min() <= ids.max() < ID_RANGE:
        raise ValueError(f"track ids must lie in [0, {ID_RANGE})")
    return result.assign(id=ids + camera * ID_RANGE)


def _summed(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Pair tables of several cameras as one: the frames of a (gt_id, track) pair summed."""
    pooled = pd.concat(tables, ignore_index=True)
    return pooled.groupby(["track", "gt_id"], as_index=False, sort=True)["frames"].sum()


def _best_assignment(pairs: pd.DataFrame) -> int:
    """The most matched detections one result identity per gt id (and vice versa) can give."""
    if pairs.empty:
        return 0
    gt_index, gts = pd.factorize(pairs["gt_id"])
    tr_index, trs = pd.factorize(pairs["track"])
    counts = np.zeros((len(gts), len(trs)))
    counts[gt_index, tr_index] = pairs["frames"].to_numpy()
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return int(counts[rows, cols].sum())
