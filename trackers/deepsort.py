"""DeepSORT (Wojke, Bewley, Paulus 2017): Kalman motion, appearance cascade, IoU stage, track life cycle.

One :meth:`DeepSort.update` per frame:

1. predict every track one frame ahead (Kalman);
2. matching cascade over confirmed tracks, most recently seen first: cosine distance to each track's
   gallery of the last ``nn_budget`` appearance features (or, without features, 1 - IoU), gated by the
   chi-square 95% bound on the Mahalanobis distance to the predicted box;
3. IoU matching of the detections left against tentative tracks and tracks missed only in the previous frame;
4. optionally (``low_score``), ByteTrack's second association: low-score detections matched by IoU to the
   confirmed tracks still unmatched;
5. Kalman update of matched tracks; unmatched tracks miss (tentative ones die, confirmed ones after
   ``max_age`` frames); unmatched high-score detections start tentative tracks.

StrongSORT (Du et al. 2023) changes step 2 in three ways, each an option here: one global assignment
instead of the cascade (``matching=global``), each track's appearance as an exponential moving average of
its features instead of a gallery (``appearance_memory=ema``), and a little motion in the cost
(``lambda_motion``, the paper's 0.02); and step 5's Kalman update trusts confident detections more
(``nsa_kalman``: measurement noise times 1 - score).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DeepSortConfig
from .kalman import CHI2INV95, KalmanFilter, xyah_to_xywh, xywh_to_xyah
from .matching import Matches, gate, iou_cost, linear_assignment, matching_cascade
from .matching import cosine_distance_to_galleries as cosine_cost
from .track import Track


@dataclass
class TrackerOutput:
    """The confirmed tracks reported for one frame (rows aligned)."""

    ids: np.ndarray  # (M,) int track ids, from 1
    boxes: np.ndarray  # (M, 4) Kalman-filtered top-left x, y, width, height
    scores: np.ndarray  # (M,) score of each track's last matched detection
    det_index: np.ndarray  # (M,) index of the detection matched in this frame, -1 when the track missed it
    confirmed: np.ndarray  # (M,) bool; False only for tentative tracks, reported with output_tentative

    def __len__(self) -> int:
        return len(self.ids)


class DeepSort:
    """A multi-object tracker for one camera. Feed frames in order with :meth:`update`."""

    def __init__(self, config: DeepSortConfig | None = None, fps: float | None = None):
        self.config = config or DeepSortConfig()
        self.max_age = self.config.max_age_at(fps)
        self.kf = KalmanFilter(self.config.std_weight_position, self.config.std_weight_velocity)
        self.gate = CHI2INV95[self.config.gating_dof]
        self.tracks: list[Track] = []
        self.means = np.zeros((0, 8))
        self.covs = np.zeros((0, 8, 8))
        self.galleries: dict[int, np.ndarray] = {}
        self.next_id = 1
        self.frame_count = 0

    def update(
        self, boxes: np.ndarray, scores: np.ndarray | None = None, features: np.ndarray | None = None
    ) -> TrackerOutput:
        """Advance one frame with its detections: ``boxes`` (N, 4) as x, y, w, h; ``scores`` (N,);
        ``features`` (N, D) L2-normalised appearance vectors, or None for motion only."""
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        n = len(boxes)
        scores = np.ones(n) if scores is None else np.asarray(scores, dtype=float).reshape(n)
        if features is not None:
            features = np.asarray(features, dtype=float).reshape(n, -1)
        self.frame_count += 1
        self._predict()
        xyah = xywh_to_xyah(boxes)
        cfg = self.config
        is_high = np.ones(n, bool) if cfg.low_score is None else scores >= cfg.low_score
        high = np.flatnonzero(is_high).tolist()

        confirmed = [i for i, t in enumerate(self.tracks) if t.is_confirmed]
        unconfirmed = [i for i, t in enumerate(self.tracks) if not t.is_confirmed]
        matches_a, unmatched_a, unmatched_dets = self._cascade(confirmed, high, xyah, boxes, features)

        ages = [self.tracks[i].time_since_update for i in range(len(self.tracks))]
        candidates = unconfirmed + [i for i in unmatched_a if ages[i] == 1]
        still_lost = [i for i in unmatched_a if ages[i] != 1]
        matches_b, unmatched_b, unmatched_dets = self._iou_match(
            candidates, unmatched_dets, boxes, cfg.max_iou_distance
        )
        matches = matches_a + matches_b
        unmatched_tracks = still_lost + unmatched_b
        if cfg.low_score is not None:
            low = np.flatnonzero(~is_high).tolist()
            recent = [i for i in unmatched_tracks if self.tracks[i].is_confirmed and ages[i] == 1]
            matches_c, _, _ = self._iou_match(recent, low, boxes, cfg.low_iou_distance)
            matched_c = {t for t, _ in matches_c}
            unmatched_tracks = [i for i in unmatched_tracks if i not in matched_c]
            matches = matches + matches_c
            low_set = set(low)
        else:
            low_set = set()

        self._apply(matches, unmatched_tracks, unmatched_dets, xyah, scores, features, low_set)
        return self._output()

    # ---------------------------------------------------------------------------------------- stages

    def _predict(self) -> None:
        if self.tracks:
            self.means, self.covs = self.kf.predict(self.means, self.covs)
            for track in self.tracks:
                track.predicted()

    def _cascade(
        self,
        tracks: list[int],
        dets: list[int],
        xyah: np.ndarray,
        boxes: np.ndarray,
        features: np.ndarray | None,
    ) -> tuple[Matches, list[int], list[int]]:
        if not tracks or not dets:
            return [], tracks, dets
        cfg = self.config
        t_idx = np.asarray(tracks)
        d_idx = np.asarray(dets)
        maha = self.kf.gating_distance(
            self.means[t_idx], self.covs[t_idx], xyah[d_idx], only_position=cfg.gating_dof == 2
        )
        if features is not None:
            galleries = [self.galleries[self.tracks[i].track_id] for i in tracks]
            cost = cosine_cost(galleries, features[d_idx])
            max_cost = cfg.max_cosine_distance
        elif cfg.motion_metric == "iou":
            cost = iou_cost(xyah_to_xywh(self.means[t_idx]), boxes[d_idx])
            max_cost = cfg.max_iou_distance
        else:
            cost = maha / self.gate
            max_cost = 1.0
        if cfg.lambda_motion > 0:
            cost = cfg.lambda_motion * (maha / self.gate) + (1 - cfg.lambda_motion) * cost
        cost = gate(cost, maha, self.gate)
        if cfg.matching == "global":  # StrongSORT: every confirmed track competes at once
            return linear_assignment(cost, max_cost, tracks, dets)
        # The cascade asks for sub-matrices in the caller's indices: map them to rows / columns of `cost`.
        row_of = {t: r for r, t in enumerate(tracks)}
        col_of = {d: c for c, d in enumerate(dets)}

        def sub_cost(ts: list[int], ds: list[int]) -> np.ndarray:
            return cost[np.ix_([row_of[t] for t in ts], [col_of[d] for d in ds])]

        ages = [t.time_since_update for t in self.tracks]
        return matching_cascade(sub_cost, max_cost, ages, tracks, dets, depth=self.max_age)

    def _iou_match(
        self, tracks: list[int], dets: list[int], boxes: np.ndarray, max_distance: float
    ) -> tuple[Matches, list[int], list[int]]:
        if not tracks or not dets:
            return [], tracks, dets
        cost = iou_cost(xyah_to_xywh(self.means[tracks]), boxes[dets])
        return linear_assignment(cost, max_distance, tracks, dets)

    def _apply(
        self,
        matches: Matches,
        unmatched_tracks: list[int],
        unmatched_dets: list[int],
        xyah: np.ndarray,
        scores: np.ndarray,
        features: np.ndarray | None,
        low_dets: set[int],
    ) -> None:
        if matches:
            t_idx = np.array([t for t, _ in matches])
            d_idx = np.array([d for _, d in matches])
            noise = 1 - scores[d_idx] if self.config.nsa_kalman else None
            self.means[t_idx], self.covs[t_idx] = self.kf.update(
                self.means[t_idx], self.covs[t_idx], xyah[d_idx], noise
            )
            for t, d in matches:
                # A low-score detection (often a partly hidden person) updates the motion, not the gallery.
                feature = None if features is None or d in low_dets else features[d]
                self.tracks[t].matched(d, feature, float(scores[d]))
        for t in unmatched_tracks:
            self.tracks[t].missed()
        if unmatched_dets:
            new = np.asarray(unmatched_dets)
            mean, cov = self.kf.initiate(xyah[new])
            self.means = np.concatenate([self.means, mean])
            self.covs = np.concatenate([self.covs, cov])
            for d in unmatched_dets:
                feature = None if features is None else features[d]
                track = Track(self.next_id, self.config.n_init, self.max_age, feature, float(scores[d]))
                track.last_det = d
                self.tracks.append(track)
                self.next_id += 1
        keep = [i for i, t in enumerate(self.tracks) if not t.is_deleted]
        if len(keep) < len(self.tracks):
            self.tracks = [self.tracks[i] for i in keep]
            self.means, self.covs = self.means[keep], self.covs[keep]
        self._update_galleries()

    def _update_galleries(self) -> None:
        """Move confirmed tracks' new features into their galleries; drop the galleries of the rest.

        ``appearance_memory=gallery`` keeps the last ``nn_budget`` features; ``ema`` keeps one row, the
        L2-normalised exponential moving average of all of them, oldest first (StrongSORT)."""
        galleries = {}
        for track in self.tracks:
            if not track.is_confirmed:
                continue
            gallery = self.galleries.get(track.track_id)
            if track.features:
                gallery = self._remember(gallery, np.stack(track.features))
                track.features = []
            if gallery is not None:
                galleries[track.track_id] = gallery
        self.galleries = galleries

    def _remember(self, gallery: np.ndarray | None, new: np.ndarray) -> np.ndarray:
        cfg = self.config
        if cfg.appearance_memory == "ema":
            average, rest = (new[0], new[1:]) if gallery is None else (gallery[0], new)
            for feature in rest:
                average = cfg.ema_alpha * average + (1 - cfg.ema_alpha) * feature
                average = average / max(np.linalg.norm(average), 1e-12)
            return average[None, :]
        gallery = new if gallery is None else np.concatenate([gallery, new])
        budget = cfg.nn_budget
        return gallery[-budget:] if budget is not None and len(gallery) > budget else gallery

    def _output(self) -> TrackerOutput:
        limit = self.config.output_missed
        tentative = self.config.output_tentative
        rows = [
            i
            for i, t in enumerate(self.tracks)
            if (t.is_confirmed and t.time_since_update <= limit)
            or (tentative and t.is_tentative and t.time_since_update == 0)
        ]
        tracks = [self.tracks[i] for i in rows]
        return TrackerOutput(
            ids=np.array([t.track_id for t in tracks], dtype=np.int64),
            boxes=xyah_to_xywh(self.means[rows]) if rows else np.zeros((0, 4)),
            scores=np.array([t.score for t in tracks], dtype=float),
            det_index=np.array([t.last_det for t in tracks], dtype=np.int64),
            confirmed=np.array([t.is_confirmed for t in tracks], dtype=bool),
        )
