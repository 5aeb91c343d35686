"""How good a set of training labels is, measured against ground truth (simulator, synthetic world, or a
tracked store whose boxes were matched to MOT gt: :func:`~reid_from_video.labels.ground_truth.attach_gt_ids`).

Everything is counted on index rows (frames), the units a trainer sees; rows without a gt id are left out
of the figures and counted.

* **Tracklet noise** (TMC, eq. 7-8, per camera as in :mod:`reid_from_video.noise.rfm_rsw`): rSW and rFM of
  the input tracklets and, after intra-tracklet isolation, of the sub-tracklets; with the *noise ratio* of
  TMC Table 4 (mean over sub-tracklets of the share of frames not of its majority identity, in %) and the
  number of sub-tracklets produced.
* **Labels**: purity (share of labelled frames whose identity is their label's majority identity; and
  ``pure_share``: the same count over all frames with gt, labelled or not), NMI and ARI between labels and
  identities (on the labelled frames), the number of labels against the number of identities, and the share
  of frames that got a label at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import json_ready
from reid_from_video.labels.config import GT_SCOPES
from reid_from_video.noise.rfm_rsw import noise_rates


def row_labels(index: pd.DataFrame, labels: pd.DataFrame, sub_track: np.ndarray | None = None) -> np.ndarray:
    """The label of every index row (-1 where it has none), from a labels table keyed by (camera, track)
    or, with ``sub_track`` (one value per row), by (camera, track, sub_track)."""
    keys = ["camera", "track"] + (["sub_track"] if sub_track is not None else [])
    rows = index[["camera", "track"]].reset_index(drop=True)
    if sub_track is not None:
        rows = rows.assign(sub_track=sub_track)
    merged = rows.merge(labels[[*keys, "label"]], on=keys, how="left", validate="many_to_one")
    return merged["label"].fillna(-1).to_numpy(np.int64)


def identities(index: pd.DataFrame, scope: str = "global") -> np.ndarray:
    """One integer identity per row (-1 without gt): the gt id, or per (camera, gt id) with ``camera``
    scope (gt ids of unrelated MOT sequences are not the same people)."""
    if scope not in GT_SCOPES:
        raise ValueError(f"gt scope must be one of {GT_SCOPES}, not {scope!r}")
    gt = index["gt_id"]
    known = gt.notna().to_numpy()
    out = np.full(len(index), -1, np.int64)
    if scope == "global":
        out[known] = gt[known].to_numpy(np.int64)
    else:
        keys = pd.MultiIndex.from_arrays([index["camera"][known], gt[known].astype(np.int64)])
        out[known] = pd.factorize(keys)[0]
    return out


def tracklet_noise(index: pd.DataFrame, tracklet: np.ndarray, identity: np.ndarray) -> dict[str, Any]:
    """rSW / rFM (per camera), the number of tracklets and the TMC noise ratio of the tracklets given by
    ``tracklet`` (an integer per row, unique within a camera; negative = not in any tracklet)."""
    kept = (tracklet >= 0) & (identity >= 0)
    table = pd.DataFrame(
        {"sequence": index["camera"].to_numpy()[kept], "track": tracklet[kept], "gt_id": identity[kept]}
    )
    pairs = table.groupby(["sequence", "track", "gt_id"]).size().rename("frames").reset_index()
    everything = pd.DataFrame({"camera": index["camera"].to_numpy(), "track": tracklet})
    n_tracklets = len(everything[tracklet >= 0].drop_duplicates())
    rates = noise_rates(pairs, n_tracklets, len(pairs[["sequence", "gt_id"]].drop_duplicates()))
    per_tracklet = pairs.groupby(["sequence", "track"])["frames"]
    noise = 1.0 - per_tracklet.max() / per_tracklet.sum()
    return {
        "tracklets": n_tracklets,
        "rsw": rates.rsw,
        "rfm": rates.rfm,
        "noise_ratio_pct": 100.0 * float(noise.mean()) if len(noise) else float("nan"),
        "q_histogram": rates.to_dict()["q_histogram"],
    }


def label_scores(labels: np.ndarray, identity: np.ndarray) -> dict[str, Any]:
    """Purity, NMI, ARI and counts of the labelled rows with a known identity."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    with_gt = identity >= 0
    scored = with_gt & (labels >= 0)
    lab, ids = labels[scored], identity[scored]
    if len(lab):
        counts = pd.crosstab(lab, ids)
        purity = float(counts.max(axis=1).sum() / len(lab))
        nmi, ari = float(normalized_mutual_info_score(ids, lab)), float(adjusted_rand_score(ids, lab))
    else:
        purity = nmi = ari = float("nan")
    return {
        "labels": int(len(np.unique(labels[labels >= 0]))),
        "identities_labelled": int(len(np.unique(ids))),
        "identities": int(len(np.unique(identity[with_gt]))),
        "frames": int(len(labels)),
        "frames_labelled": int((labels >= 0).sum()),
        "labelled_share": float((labels >= 0).mean()) if len(labels) else float("nan"),
        "frames_without_gt": int((~with_gt).sum()),
        "purity": purity,
        # Purity counts labelled frames only; this counts the unlabelled ones as failures too.
        "pure_share": purity * len(lab) / int(with_gt.sum()) if len(lab) else float("nan"),
        "nmi": nmi,
        "ari": ari,
    }


def cross_camera_share(labels: np.ndarray, cameras: np.ndarray) -> float:
    """Share of the labels (>= 0) whose members lie in more than one camera: what teaches cross-camera
    matching. ``labels`` and ``cameras`` are aligned (one per unit: frame, tracklet or sub-tracklet)."""
    labelled = labels >= 0
    if not labelled.any():
        return 0.0
    pairs = np.unique(np.stack([labels[labelled], cameras[labelled]]), axis=1)
    cameras_per_label = np.bincount(pairs[0])
    return float((cameras_per_label[cameras_per_label > 0] > 1).mean())


def label_quality(
    index: pd.DataFrame,
    labels: np.ndarray,
    sub_track: np.ndarray | None = None,
    scope: str = "global",
) -> dict[str, Any]:
    """The whole report for row labels (and, for TMC, the sub-tracklet of every row) against the index's
    gt ids; ``{"ground_truth": False}`` when no row has one."""
    identity = identities(index, scope)
    if not (identity >= 0).any():
        return {"ground_truth": False}
    tracks = index["track"].to_numpy(np.int64)
    report: dict[str, Any] = {"ground_truth": True, "gt_scope": scope}
    report["tracklets_in"] = tracklet_noise(index, tracks, identity)
    if sub_track is not None:
        # One integer per (track, sub-track) inside a camera; dropped rows (-1) stay out.
        width = int(sub_track.max()) + 1 if len(sub_track) else 1
        combined = np.where(sub_track >= 0, tracks * width + sub_track, -1)
        report["after_isolation"] = tracklet_noise(index, combined, identity)
        report["after_isolation"]["frames_dropped"] = int((sub_track < 0).sum())
    report["labels"] = label_scores(labels, identity)
    return json_ready(report)


def format_quality(report: dict[str, Any]) -> str:
    """A short table of :func:`label_quality`."""
    if not report.get("ground_truth"):
        return "label quality: no ground truth in the index (gt_id), nothing to measure"
    lines = [f"{'':22s}{'tracklets':>10s}{'rSW':>8s}{'rFM':>8s}{'noise %':>9s}"]
    for name, key in (("input tracklets", "tracklets_in"), ("after isolation", "after_isolation")):
        if key in report:
            part = report[key]
            lines.append(
                f"{name:22s}{part['tracklets']:>10d}{_num(part['rsw'])}{_num(part['rfm'])}"
                f"{_num(part['noise_ratio_pct'], 9)}"
            )
    scores = report["labels"]
    lines.append(
        f"labels: {scores['labels']} for {scores['identities']} identities "
        f"({scores['identities_labelled']} labelled); {100 * scores['labelled_share']:.1f}% of "
        f"{scores['frames']} frames labelled"
    )
    lines.append(
        f"purity {_num(scores['purity'], 0)}  NMI {_num(scores['nmi'], 0)}  ARI {_num(scores['ari'], 0)}"
    )
    return "\n".join(lines)


def _num(value: float | None, width: int = 8) -> str:
    return f"{'-':>{width}s}" if value is None or value != value else f"{value:>{width}.3f}"
