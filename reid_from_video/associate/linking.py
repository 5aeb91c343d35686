"""Tracklets of several cameras linked into identities: average linkage under cannot-link constraints.

* **Known different people.** Two tracklets of one camera that overlap in time are two people (a tracker
  gives one person one box per frame). No identity ever holds two such tracklets. Cameras may overlap in
  view, so tracklets of different cameras at the same time may be one person.
* **The threshold, without labels.** The distances between such known-different pairs say how close two
  different people come with this model on these cameras: the link threshold is their ``quantile``
  (the rule :mod:`reid_from_video.embed.gate` applies to frames, here on tracklet features).
* **Average linkage.** Candidate links are each tracklet's ``neighbours`` nearest tracklets closer than the
  threshold, taken closest first. A link merges two identities when the mean distance between their
  tracklets (for unit features: 1 - sum_a . sum_b / (n_a n_b)) is below the threshold and no tracklet of
  one overlaps in time a tracklet of the other in the same camera. Single linkage would chain people
  together through one ambiguous pair; the mean keeps an identity compact.
* **Transit times** (optional). With the least time a person needs to get from each camera to each other
  (:func:`least_transit`, over the walkways between cameras), two tracklets of different cameras are never
  one person when the time between one leaving and the other starting is shorter than that (negative when
  they overlap in time: only cameras that share a view, least time 0, can see one person at once), and
  cameras that no walkway joins never share one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spans:
    """One row per tracklet: its camera (a code), first and last frame, and first and last time (seconds on
    a clock the cameras share; needed only with transit times)."""

    camera: np.ndarray
    first: np.ndarray
    last: np.ndarray
    first_s: np.ndarray | None = None
    last_s: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.camera)

    def subset(self, rows: np.ndarray) -> Spans:
        times = (
            (None, None)
            if self.first_s is None or self.last_s is None
            else (self.first_s[rows], self.last_s[rows])
        )
        return Spans(self.camera[rows], self.first[rows], self.last[rows], *times)


def least_transit(cameras: int, walkways: list[tuple[int, int, float]]) -> np.ndarray:
    """(cameras x cameras) the least seconds from each camera to each other along ``walkways`` ((camera,
    camera, least seconds), both ways), the shortest path over them; inf where none leads, 0 to itself."""
    least = np.full((cameras, cameras), np.inf)
    np.fill_diagonal(least, 0.0)
    for a, b, seconds in walkways:
        least[a, b] = least[b, a] = min(least[a, b], seconds)
    for via in range(cameras):  # Floyd-Warshall
        least = np.minimum(least, least[:, via, None] + least[None, via, :])
    return least


def known_different(spans: Spans) -> tuple[np.ndarray, np.ndarray]:
    """(i, j), i < j: every pair of tracklets of one camera whose frame ranges overlap."""
    rows_i, rows_j = [], []
    for camera in np.unique(spans.camera):
        rows = np.flatnonzero(spans.camera == camera)
        rows = rows[np.argsort(spans.first[rows], kind="stable")]
        first, last = spans.first[rows], spans.last[rows]
        for k in range(len(rows)):
            # Tracklets starting after k starts and no later than k ends overlap it.
            stop = np.searchsorted(first, last[k], side="right")
            others = rows[k + 1 : stop]
            rows_i.append(np.full(len(others), rows[k]))
            rows_j.append(others)
    i = np.concatenate(rows_i) if rows_i else np.zeros(0, np.int64)
    j = np.concatenate(rows_j) if rows_j else np.zeros(0, np.int64)
    return np.minimum(i, j), np.maximum(i, j)


def link_threshold(features: np.ndarray, spans: Spans, quantile: float) -> tuple[float, int] | None:
    """The ``quantile`` of the distances between known-different tracklets, and how many pairs it is of;
    None when there is no such pair."""
    i, j = known_different(spans)
    if not len(i):
        return None
    distances = 1.0 - np.einsum("ij,ij->i", features[i], features[j])
    return float(np.quantile(distances, quantile)), len(i)


def nearest_links(features: np.ndarray, neighbours: int, threshold: float, block: int = 2048) -> np.ndarray:
    """(i, j, distance) rows, i < j, of each tracklet's nearest others closer than ``threshold``, closest
    first (ties: by i, then j)."""
    n = len(features)
    k = min(neighbours, n - 1)
    if k < 1:
        return np.zeros((0, 3))
    unit = features.astype(np.float32)
    links = []
    for start in range(0, n, block):
        distances = 1.0 - unit[start : start + block] @ unit.T
        rows = np.arange(start, min(start + block, n))
        distances[rows - start, rows] = np.inf  # never oneself
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
        near = np.take_along_axis(distances, nearest, axis=1)
        keep = near < threshold
        i = np.broadcast_to(rows[:, None], nearest.shape)[keep]
        links.append(np.stack([np.minimum(i, nearest[keep]), np.maximum(i, nearest[keep]), near[keep]], 1))
    table = np.unique(np.concatenate(links), axis=0)  # a pair found from both ends once
    return table[np.lexsort((table[:, 1], table[:, 0], table[:, 2]))]


def link(
    features: np.ndarray, spans: Spans, threshold: float, neighbours: int, transit: np.ndarray | None = None
) -> np.ndarray:
    """The identity of every tracklet (0 .. G-1, numbered in tracklet order); ``features`` unit rows;
    ``transit``: the least seconds between cameras (:func:`least_transit`; ``spans`` then has times)."""
    if transit is not None and (spans.first_s is None or spans.last_s is None):
        raise ValueError("transit times need the tracklets' times (Spans.first_s / last_s)")
    n = len(features)
    if n == 0:
        return np.zeros(0, np.int64)
    parent = np.arange(n)
    sums = features.astype(np.float64).copy()
    sizes = np.ones(n, np.int64)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    def overlapping(a: list[int], b: list[int]) -> bool:
        for x in a:
            same = [y for y in b if spans.camera[y] == spans.camera[x]]
            if any(spans.first[y] <= spans.last[x] and spans.first[x] <= spans.last[y] for y in same):
                return True
        return False

    def too_quick(a: list[int], b: list[int]) -> bool:
        if transit is None:
            return False
        x, y = np.array(a)[:, None], np.array(b)[None, :]
        gap = np.maximum(spans.first_s[y] - spans.last_s[x], spans.first_s[x] - spans.last_s[y])
        least = transit[spans.camera[x], spans.camera[y]]  # 0 for one camera and cameras sharing a view
        return bool(((least > 0) & (gap < least)).any())

    for i, j, _ in nearest_links(features, neighbours, threshold):
        a, b = root(int(i)), root(int(j))
        if a == b:
            continue
        mean_distance = 1.0 - float(sums[a] @ sums[b]) / (sizes[a] * sizes[b])
        if (
            mean_distance >= threshold
            or overlapping(members[a], members[b])
            or too_quick(members[a], members[b])
        ):
            continue
        if sizes[a] < sizes[b]:
            a, b = b, a
        parent[b] = a
        sums[a] += sums[b]
        sizes[a] += sizes[b]
        members[a].extend(members.pop(b))
    roots = np.array([root(i) for i in range(n)])
    _, identity = np.unique(roots, return_inverse=True)
    first_seen = np.full(identity.max() + 1, n)
    np.minimum.at(first_seen, identity, np.arange(n))
    order = np.argsort(first_seen, kind="stable")  # identities numbered by their first tracklet
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[identity]
