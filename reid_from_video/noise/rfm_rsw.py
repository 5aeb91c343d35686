"""How noisy a tracker's tracklets are: the TMC paper's rate of fragmentation (rFM) and rate of switch (rSW).

Definitions (TMC, eq. 7-8), for one sequence:

* A *tracklet* is one tracker id. In every frame the tracker boxes are matched one to one to the scored
  ground-truth boxes (pedestrians with the consider flag set, :func:`reid_from_video.io.mot.pedestrians`)
  by Hungarian assignment maximising IoU, pairs below the IoU threshold (0.5) excluded
  (:func:`reid_from_video.noise.preprocess.frame_matches`, the rule TrackEval uses for CLEAR and Identity).
* ``Q_i`` is the set of gt ids matched to tracklet ``i`` in at least ``min_frames`` frames (default 1: in any
  frame). A tracklet is *matched* when ``Q_i`` is not empty; a gt id is *matched* when it is in some ``Q_i``.
* rSW = mean ``|Q_i|`` over matched tracklets (1.0: no tracklet ever switches identity).
* rFM = mean, over matched gt ids, of the number of tracklets whose ``Q_i`` holds the id (1.0: no identity
  is split over several tracklets).

Both are NaN when nothing matched. Over several sequences, tracklets and ids are counted per sequence (the key
is ``(sequence, id)``: tracker and gt ids are only unique within a sequence) and the means are pooled over all
of them, not averaged over sequences (:func:`combine`).

The work is split in two steps so that pooling and ``min_frames`` need no re-matching: :func:`match_tracklets`
turns one sequence into a *pair table* (one row per tracklet / gt id pair that matched at least once, with the
number of frames), and :func:`noise_rates` turns pair tables into :class:`NoiseRates`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import json_ready, write_json
from reid_from_video.core.errors import InputError
from reid_from_video.io.mot import pedestrians
from reid_from_video.noise.preprocess import by_frame, frame_matches

PAIR_COLUMNS = ("track", "gt_id", "frames")


# ------------------------------------------------------------------------------------------- matching


def match_tracklets(gt: pd.DataFrame, result: pd.DataFrame, iou: float = 0.5) -> pd.DataFrame:
    """The pair table of one sequence: which gt ids each tracklet covers, and in how many frames.

    ``gt`` and ``result`` are MOT tables (:mod:`reid_from_video.io.mot`); only the pedestrian rows of ``gt``
    are matched (other classes and unset consider flags are ignored). In every frame the boxes are matched
    one to one by Hungarian assignment maximising IoU, pairs with IoU < ``iou`` excluded (IoU exactly at
    the threshold matches).

    Returns one row per (tracker id, gt id) pair matched in at least one frame, sorted by ``track`` then
    ``gt_id``, with int64 columns ``track`` (tracker id), ``gt_id`` and ``frames`` (number of frames in
    which the pair was matched; a tracker id present twice in a frame can count that frame for two gt ids).
    Tracklets and ids that never matched do not appear: their counts go to :func:`noise_rates` separately.
    """
    if not 0.0 < iou <= 1.0:
        raise ValueError(f"iou must be in (0, 1], not {iou!r}")
    gt = by_frame(pedestrians(gt))
    result = by_frame(result)
    matched_gt, matched_res = frame_matches(gt, result, iou)
    if not len(matched_gt):
        return _empty_pairs()
    pairs = np.stack(
        [result["id"].to_numpy(np.int64)[matched_res], gt["id"].to_numpy(np.int64)[matched_gt]], 1
    )
    unique, frames = np.unique(pairs, axis=0, return_counts=True)  # sorted by track, then gt id
    return pd.DataFrame({"track": unique[:, 0], "gt_id": unique[:, 1], "frames": frames.astype(np.int64)})


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({name: np.empty(0, np.int64) for name in PAIR_COLUMNS})


# ---------------------------------------------------------------------------------------------- rates


@dataclass(frozen=True)
class NoiseRates:
    """rFM / rSW with the counts behind them (see the module docstring for the definitions).

    ``tracklets`` and ``gt_ids`` are the totals (tracker ids in the result, pedestrian ids in the scored gt).
    ``q_histogram`` maps ``|Q_i|`` to the number of matched tracklets holding that many ids; ``fm_histogram``
    maps a number of tracklets to the number of matched gt ids found in that many tracklets. Both are sorted
    by key and have no zero entries. The matched counts (after ``min_frames``) and the share of gt ids never
    matched follow from them.
    """

    rfm: float
    rsw: float
    tracklets: int
    gt_ids: int
    q_histogram: dict[int, int]
    fm_histogram: dict[int, int]

    @property
    def tracklets_matched(self) -> int:
        return sum(self.q_histogram.values())

    @property
    def gt_ids_matched(self) -> int:
        return sum(self.fm_histogram.values())

    @property
    def unmatched_gt_share(self) -> float:
        """The share of the ``gt_ids`` never matched (NaN when ``gt_ids`` is 0)."""
        return (self.gt_ids - self.gt_ids_matched) / self.gt_ids if self.gt_ids else math.nan

    def to_dict(self) -> dict[str, Any]:
        """A plain dict that ``json.dumps`` writes as strict JSON: NaN -> None, histogram keys as strings."""
        return json_ready(
            {
                "rfm": self.rfm,
                "rsw": self.rsw,
                "tracklets": self.tracklets,
                "tracklets_matched": self.tracklets_matched,
                "gt_ids": self.gt_ids,
                "gt_ids_matched": self.gt_ids_matched,
                "unmatched_gt_share": self.unmatched_gt_share,
                "q_histogram": {str(k): v for k, v in self.q_histogram.items()},
                "fm_histogram": {str(k): v for k, v in self.fm_histogram.items()},
            }
        )


def noise_rates(pairs: pd.DataFrame, n_tracklets: int, n_gt_ids: int, min_frames: int = 1) -> NoiseRates:
    """rFM / rSW from a pair table (:func:`match_tracklets`).

    ``pairs`` has the columns ``track``, ``gt_id``, ``frames`` and, optionally, ``sequence``: when present,
    a tracklet is ``(sequence, track)`` and an identity ``(sequence, gt_id)``, which gives the pooled figure
    over several sequences (:func:`combine` builds such a table). Each key pair must appear at most once.
    ``n_tracklets`` and ``n_gt_ids`` are the totals including the never-matched ones. A pair counts only
    when matched in at least ``min_frames`` frames; tracklets and ids left with no pair are unmatched.
    Raises ValueError for a missing column, duplicate pairs, ``min_frames`` < 1, or totals smaller than
    the matched counts.
    """
    if isinstance(min_frames, bool) or not isinstance(min_frames, int | np.integer) or min_frames < 1:
        raise ValueError(f"min_frames must be an integer >= 1, not {min_frames!r}")
    missing = [name for name in PAIR_COLUMNS if name not in pairs.columns]
    if missing:
        raise ValueError(f"pair table lacks the columns {missing}")
    keys = ["sequence"] if "sequence" in pairs.columns else []
    track_key, id_key = [*keys, "track"], [*keys, "gt_id"]
    if pairs.duplicated([*keys, "track", "gt_id"]).any():
        raise ValueError("pair table holds a (track, gt_id) pair twice: sum the frames first")
    kept = pairs[pairs["frames"] >= min_frames]
    q_sizes = kept.groupby(track_key, sort=False).size()  # |Q_i| per matched tracklet
    fm_sizes = kept.groupby(id_key, sort=False).size()  # tracklets per matched gt id
    matched_tracklets, matched_ids = len(q_sizes), len(fm_sizes)
    if n_tracklets < matched_tracklets or n_gt_ids < matched_ids:
        raise ValueError(
            f"totals ({n_tracklets} tracklets, {n_gt_ids} gt ids) are smaller than the matched counts "
            f"({matched_tracklets}, {matched_ids})"
        )
    # Both means share the numerator: the number of (tracklet, id) incidences, i.e. kept pairs.
    incidences = len(kept)
    return NoiseRates(
        rfm=incidences / matched_ids if matched_ids else math.nan,
        rsw=incidences / matched_tracklets if matched_tracklets else math.nan,
        tracklets=int(n_tracklets),
        gt_ids=int(n_gt_ids),
        q_histogram=_histogram(q_sizes),
        fm_histogram=_histogram(fm_sizes),
    )


def _histogram(sizes: pd.Series) -> dict[int, int]:
    counts = sizes.value_counts().sort_index()
    return {int(k): int(v) for k, v in counts.items()}


def sequence_noise(
    gt: pd.DataFrame, result: pd.DataFrame, iou: float = 0.5, min_frames: int = 1
) -> tuple[NoiseRates, pd.DataFrame]:
    """rFM / rSW of one sequence, and its pair table (keep it for :func:`combine`).

    Totals: the distinct tracker ids of ``result`` and the distinct pedestrian ids of ``gt``.
    """
    pairs = match_tracklets(gt, result, iou)
    n_tracklets, n_gt_ids = sequence_totals(gt, result)
    return noise_rates(pairs, n_tracklets, n_gt_ids, min_frames), pairs


def sequence_totals(gt: pd.DataFrame, result: pd.DataFrame) -> tuple[int, int]:
    """(distinct tracker ids of ``result``, distinct pedestrian ids of ``gt``): the totals of one sequence."""
    return int(result["id"].nunique()), int(pedestrians(gt)["id"].nunique())


def combine(per_sequence: Mapping[str, tuple[pd.DataFrame, int, int]], min_frames: int = 1) -> NoiseRates:
    """The pooled rFM / rSW over several sequences.

    ``per_sequence`` maps a sequence name to ``(pairs, n_tracklets, n_gt_ids)`` of that sequence. Tracklets
    and ids are keyed by ``(sequence, id)`` and the means are taken over all of them at once (a sequence
    weighs by its number of tracklets / ids), not as a mean of the per-sequence rates.
    """
    tables = [pairs[list(PAIR_COLUMNS)].assign(sequence=name) for name, (pairs, _, _) in per_sequence.items()]
    pooled = pd.concat(tables, ignore_index=True) if tables else _empty_pairs().assign(sequence="")
    n_tracklets = sum(n for _, n, _ in per_sequence.values())
    n_gt_ids = sum(n for _, _, n in per_sequence.values())
    return noise_rates(pooled, n_tracklets, n_gt_ids, min_frames)


# ------------------------------------------------------------------------------------- |Q_i| histogram


def save_q_histogram(path: str | Path, rates: NoiseRates, source: str = "") -> None:
    """Write the ``|Q_i|`` histogram as JSON, atomically: the MARS simulator's noise distribution.

    Layout: ``{"q_histogram": {"1": n1, "2": n2, ...}, "rsw": ..., "rfm": ..., "source": ...}`` with NaN
    rates written as ``null``; ``source`` says where the figures come from (tracker, sequences, settings).
    Raises ValueError when the histogram is empty (no tracklet matched): it would not be a distribution.
    """
    if not rates.q_histogram:
        raise ValueError("the |Q_i| histogram is empty (no tracklet matched any gt id)")
    document = {
        "q_histogram": {str(k): v for k, v in sorted(rates.q_histogram.items())},
        "rsw": rates.rsw,
        "rfm": rates.rfm,
        "source": source,
    }
    write_json(path, document)


def load_q_histogram(path: str | Path) -> dict[int, int]:
    """Read a histogram written by :func:`save_q_histogram`: ``|Q_i|`` -> count, sorted by ``|Q_i|``.

    Raises :class:`InputError` naming the file when it is missing, not JSON, lacks the ``q_histogram``
    object, has a key that is not an integer >= 1 or a count that is not an integer >= 0, or has no
    positive count. Other keys of the document are not checked.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read: {error}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(path, f"not valid JSON: {error.msg}", error.lineno) from None
    if not isinstance(document, dict) or not isinstance(document.get("q_histogram"), dict):
        raise InputError(path, 'expected a JSON object with a "q_histogram" object')
    histogram: dict[int, int] = {}
    for key, count in document["q_histogram"].items():
        # Keys are strings in JSON; accept only plain decimal digits ("1", not "01.0" or " 2").
        if not (key.isascii() and key.isdigit()) or int(key) < 1:
            raise InputError(path, f"q_histogram key must be an integer >= 1, found {key!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InputError(path, f"q_histogram count for {key} must be an integer >= 0, found {count!r}")
        if int(key) in histogram:
            raise InputError(path, f"q_histogram key {int(key)} appears twice")
        histogram[int(key)] = count
    if not any(histogram.values()):
        raise InputError(path, "q_histogram has no positive count")
    return dict(sorted(histogram.items()))
