"""CLEAR MOT and identity metrics through motmetrics, with a fast event generator.

motmetrics computes every metric from a table of per-frame *events* (RAW, MATCH, SWITCH, MISS, FP,
TRANSFER, ASCEND, MIGRATE). Its ``MOTAccumulator.update`` builds that table one event at a time in Python;
:func:`motmetrics_events` builds the very same table (same events, same order, same distances) with numpy
per frame, and :func:`clear_metrics` hands it to motmetrics' own metric code. So the values are motmetrics'
values, obtained faster; ``tests/test_mot_eval.py`` checks the two tables are equal.

The matching rule is the one of Bernardin & Stiefelhagen (2008) as motmetrics implements it: in each frame,
correspondences of the previous frames are kept while their distance stays valid, the rest is assigned by
minimum-cost matching (motmetrics' own solver, so ties break the same way), distance = 1 - IoU, pairs with
IoU < threshold never match.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reid_from_video.io.mot import BOX_COLUMNS
from reid_from_video.noise.boxes import frame_slices, iou_xywh
from reid_from_video.noise.preprocess import by_frame

EVENT_TYPES = ["RAW", "FP", "MISS", "SWITCH", "MATCH", "TRANSFER", "ASCEND", "MIGRATE"]
RAW, FP, MISS, SWITCH, MATCH, TRANSFER, ASCEND, MIGRATE = range(len(EVENT_TYPES))

# motmetrics' MOTChallenge metric set, plus the counts the report shows.
METRICS = [
    "idf1", "idp", "idr", "recall", "precision", "num_unique_objects", "mostly_tracked", "partially_tracked",
    "mostly_lost", "num_false_positives", "num_misses", "num_switches", "num_fragmentations", "mota", "motp",
    "num_transfer", "num_ascend", "num_migrate", "num_frames", "num_objects", "num_predictions",
]  # fmt: skip


class _Events:
    """Growing columns of the event table; one chunk per call, concatenated once at the end."""

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.types: list[np.ndarray] = []
        self.oids: list[np.ndarray] = []
        self.hids: list[np.ndarray] = []
        self.dists: list[np.ndarray] = []

    def add(self, frame: int, kind: np.ndarray, oid: np.ndarray, hid: np.ndarray, dist: np.ndarray) -> None:
        """Append events given as equally long 1-d arrays."""
        self.frames.append(np.full(len(kind), frame))
        self.types.append(kind)
        self.oids.append(oid)
        self.hids.append(hid)
        self.dists.append(dist)

    def table(self) -> pd.DataFrame:
        frames = np.concatenate(self.frames) if self.frames else np.empty(0, int)
        # Event numbers restart at 0 in every frame, as in motmetrics.
        starts = np.r_[0, np.flatnonzero(np.diff(frames)) + 1] if len(frames) else np.empty(0, int)
        event = np.arange(len(frames)) - np.repeat(starts, np.diff(np.r_[starts, len(frames)]))
        index = pd.MultiIndex.from_arrays([frames, event], names=["FrameId", "Event"])
        codes = np.concatenate(self.types) if self.types else np.empty(0, int)
        return pd.DataFrame(
            {
                "Type": pd.Categorical.from_codes(codes, categories=EVENT_TYPES),
                "OId": np.concatenate(self.oids) if self.oids else np.empty(0),
                "HId": np.concatenate(self.hids) if self.hids else np.empty(0),
                "D": np.concatenate(self.dists) if self.dists else np.empty(0),
            },
            index=index,
        )


def motmetrics_events(gt: pd.DataFrame, result: pd.DataFrame, iou: float = 0.5) -> pd.DataFrame:
    """The motmetrics event table of one sequence (what ``compare_to_groundtruth`` would build).

    ``gt`` and ``result`` are MOT tables of the boxes to score (see :mod:`reid_from_video.noise.preprocess`).
    """
    from motmetrics.lap import linear_sum_assignment  # motmetrics' solver: identical tie-breaking

    max_dist = 1.0 - iou
    gt, result = by_frame(gt), by_frame(result)
    gt_ids, gt_boxes = gt["id"].to_numpy(float), gt[list(BOX_COLUMNS)].to_numpy()
    hyp_ids, hyp_boxes = result["id"].to_numpy(float), result[list(BOX_COLUMNS)].to_numpy()
    gt_rows, hyp_rows = frame_slices(gt), frame_slices(result)
    empty = slice(0, 0)

    events = _Events()
    matched: dict[float, float] = {}  # object -> hypothesis of its last match (motmetrics' m)
    owner: dict[float, float] = {}  # hypothesis -> object of its last assignment (res_m)
    last_match: dict[float, int] = {}
    hyp_seen: set[float] = set()  # hypotheses matched at least once (hypHistory)
    for frame in sorted(gt_rows.keys() | hyp_rows.keys()):
        g, h = gt_rows.get(frame, empty), hyp_rows.get(frame, empty)
        oids, hids = gt_ids[g], hyp_ids[h]
        no, nh = len(oids), len(hids)
        if no and nh:
            dists = 1.0 - iou_xywh(gt_boxes[g], hyp_boxes[h])
            dists[dists > max_dist] = np.nan
        else:
            dists = np.empty((no, nh))
        # RAW events: one per frame, one per valid pair, one per object / hypothesis with no valid pair.
        valid_i, valid_j = np.nonzero(np.isfinite(dists))
        lone_o = np.ones(no, bool)
        lone_o[valid_i] = False
        lone_h = np.ones(nh, bool)
        lone_h[valid_j] = False
        n_lone_o, n_lone_h = int(lone_o.sum()), int(lone_h.sum())
        nan = np.full(n_lone_o + n_lone_h, np.nan)
        events.add(
            frame,
            np.zeros(1 + len(valid_i) + n_lone_o + n_lone_h, np.int8),
            np.concatenate([[np.nan], oids[valid_i], oids[lone_o], nan[:n_lone_h]]),
            np.concatenate([[np.nan], hids[valid_j], nan[:n_lone_o], hids[lone_h]]),
            np.concatenate([[np.nan], dists[valid_i, valid_j], nan]),
        )

        o_list, h_list = oids.tolist(), hids.tolist()
        o_done = [False] * no
        h_done = [False] * nh
        out: list[tuple[int, float, float, float]] = []  # (type, object, hypothesis, distance)
        if len(valid_i):
            # 1. Keep correspondences of earlier frames that are still valid.
            column = {}
            for j in range(nh - 1, -1, -1):  # the first column of a hypothesis wins, as in motmetrics
                column[h_list[j]] = j
            for i, o in enumerate(o_list):
                j = column.get(matched.get(o))
                if j is not None and not h_done[j] and np.isfinite(dists[i, j]):
                    o_done[i] = h_done[j] = True
                    last_match[o] = frame
                    hyp_seen.add(h_list[j])
                    out.append((MATCH, o, h_list[j], dists[i, j]))
            # 2. Assign the rest at minimum total distance.
            rest = dists.copy()
            rest[np.array(o_done), :] = np.nan
            rest[:, np.array(h_done)] = np.nan
            for i, j in zip(*linear_sum_assignment(rest), strict=True):
                if not np.isfinite(rest[i, j]):
                    continue
                o, hyp, d = o_list[i], h_list[j], dists[i, j]
                switch = o in matched and matched[o] != hyp
                if switch and hyp not in hyp_seen:
                    out.append((ASCEND, o, hyp, d))
                if hyp in owner and owner[hyp] != o:
                    if o not in last_match:
                        out.append((MIGRATE, o, hyp, d))
                    out.append((TRANSFER, o, hyp, d))
                hyp_seen.add(hyp)
                last_match[o] = frame
                out.append((SWITCH if switch else MATCH, o, hyp, d))
                o_done[i] = h_done[j] = True
                matched[o] = hyp
                owner[hyp] = o
        nan = float("nan")
        out.extend((MISS, o, nan, nan) for o, done in zip(o_list, o_done, strict=True) if not done)
        out.extend((FP, nan, h, nan) for h, done in zip(h_list, h_done, strict=True) if not done)
        if out:
            kinds, objs, hyps, ds = zip(*out, strict=True)
            events.add(frame, np.array(kinds, np.int8), np.array(objs), np.array(hyps), np.array(ds))
    return events.table()


def num_fragmentations(df, obj_frequencies) -> int:
    """motmetrics' ``num_fragmentations``, vectorised: same definition, same value.

    For each object, between its first and its last non-MISS event, count the changes from tracked to MISS.
    motmetrics loops over objects with a pandas filter each, which takes most of the metric time on MOT17.
    """
    noraw = df.noraw
    oid = noraw["OId"].to_numpy()
    miss = (noraw["Type"] == "MISS").to_numpy()
    has_object = ~np.isnan(oid)  # FP events have no object
    oid, miss = oid[has_object], miss[has_object]
    order = np.argsort(oid, kind="stable")  # each object's events stay in time order
    oid, miss = oid[order], miss[order]
    if not len(oid):
        return 0
    same_object = np.r_[False, oid[1:] == oid[:-1]]
    starts = miss & ~np.r_[False, miss[:-1]] & same_object  # a MISS right after a tracked event
    group_starts = np.flatnonzero(~same_object)
    position = np.arange(len(oid))
    last_tracked = np.maximum.reduceat(np.where(miss, -1, position), group_starts)
    last_tracked = np.repeat(last_tracked, np.diff(np.r_[group_starts, len(oid)]))
    return int(np.count_nonzero(starts & (position < last_tracked)))


def clear_metrics(events: dict[str, pd.DataFrame], overall: bool = True) -> pd.DataFrame:
    """motmetrics' metrics (:data:`METRICS`) per sequence, plus an ``OVERALL`` row over all of them."""
    import motmetrics as mm

    host = mm.metrics.create()
    # Same name, so motmetrics' merge for OVERALL (num_fragmentations_m, a sum) still applies.
    host.register(num_fragmentations, deps=["obj_frequencies"], name="num_fragmentations")
    return host.compute_many(
        list(events.values()),
        metrics=METRICS,
        names=list(events),
        generate_overall=overall and len(events) > 0,
    )
