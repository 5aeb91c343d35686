"""Transit times between cameras: the least time a person needs from one camera to another, given as a
topology of walkways (a CSV the user writes) or learnt from confident links, and the times the links of a
run imply (``associate.json``).

Only a least time is a sound constraint: a person may linger anywhere for any time, and a journey may pass
through cameras in any order, so nothing bounds the time from above; but nobody gets from one camera to
another faster than the shortest walk between them.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.associate.linking import least_transit
from reid_from_video.associate.result import Transit
from reid_from_video.core.errors import InputError

log = logging.getLogger(__name__)

TOPOLOGY_COLUMNS = ("camera_a", "camera_b", "least_seconds")
LEARNT_MIN_IDENTITIES = 3  # camera pairs crossed by fewer confident identities get no constraint
LEARNT_MARGIN = 0.5  # the learnt least time is halved: the quickest walker may not be among the confident


def read_topology(path: str | Path, cameras: list[str]) -> np.ndarray:
    """The least seconds between every two of ``cameras`` (in that order) along the walkways of the CSV
    ``path`` (``camera_a, camera_b, least_seconds``; 0: their views overlap): see :func:`least_transit`.
    A camera missing from the file, an unknown camera or a bad time is an :class:`InputError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "topology file not found (topology)")
    try:
        table = pd.read_csv(path, dtype={"camera_a": str, "camera_b": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the topology: {error}") from None
    missing = [c for c in TOPOLOGY_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(path, f"the topology lacks columns {missing}; expected {list(TOPOLOGY_COLUMNS)}")
    code = {name: k for k, name in enumerate(cameras)}
    seconds = pd.to_numeric(table["least_seconds"], errors="coerce").to_numpy(dtype=float)
    walkways = []
    for row, (a, b, value, given) in enumerate(
        zip(table["camera_a"], table["camera_b"], seconds, table["least_seconds"], strict=True), start=2
    ):
        unknown = [name for name in (a, b) if name not in code]
        if unknown:
            raise InputError(path, f"line {row}: camera {unknown[0]!r} is not in the store ({cameras})")
        if not (math.isfinite(value) and value >= 0):  # NaN: not a number
            raise InputError(path, f"line {row}: least_seconds must be a number >= 0, got {given!r}")
        walkways.append((code[a], code[b], float(value)))
    named = {name for a, b, _ in walkways for name in (cameras[a], cameras[b])}
    alone = [name for name in cameras if name not in named]
    if alone and len(cameras) > 1:
        raise InputError(path, f"cameras {alone} of the store have no walkway: give each at least one line")
    return least_transit(len(cameras), walkways)


def learnt_transit(transits: tuple[Transit, ...], cameras: list[str]) -> np.ndarray:
    """The least seconds between cameras learnt from the ``transits`` of confident links: for each pair
    crossed by at least ``LEARNT_MIN_IDENTITIES`` identities (either way), ``LEARNT_MARGIN`` times the least
    time seen; 0 (no constraint) for the others, and no path closure (an unseen pair is unknown, not far)."""
    code = {name: k for k, name in enumerate(cameras)}
    counts: dict[tuple[int, int], int] = {}
    least: dict[tuple[int, int], float] = {}
    for t in transits:
        pair = tuple(sorted((code[t.source], code[t.target])))
        counts[pair] = counts.get(pair, 0) + t.journeys
        least[pair] = min(least.get(pair, math.inf), t.min_s)
    matrix = np.zeros((len(cameras), len(cameras)))
    for (a, b), seconds in least.items():
        if counts[(a, b)] >= LEARNT_MIN_IDENTITIES and seconds > 0:
            matrix[a, b] = matrix[b, a] = LEARNT_MARGIN * seconds
    log.info("learnt least transit times (s): %s", _pairs(matrix, cameras))
    return matrix


def transit_times(journeys: pd.DataFrame) -> tuple[Transit, ...]:
    """Per (from, to) camera pair: the seconds between an identity leaving one camera and next appearing in
    another, over the identities that did (NaN times, e.g. simulated stores, give none)."""
    ordered = journeys.sort_values(["identity", "first_s"], kind="stable")
    following = ordered.groupby("identity", sort=False)[["camera", "first_s"]].shift(-1)
    moved = (
        following["camera"].notna()
        & (ordered["camera"] != following["camera"])
        & np.isfinite(ordered["last_s"].to_numpy(dtype=float))
        & np.isfinite(following["first_s"].to_numpy(dtype=float))
    )
    if not moved.any():
        return ()
    table = pd.DataFrame(
        {
            "source": ordered["camera"][moved],
            "target": following["camera"][moved],
            "seconds": (following["first_s"] - ordered["last_s"])[moved].astype(float),
        }
    )
    return tuple(
        Transit(
            str(s),
            str(t),
            len(g),
            float(g["seconds"].median()),
            float(g["seconds"].min()),
            float(g["seconds"].max()),
        )
        for (s, t), g in table.groupby(["source", "target"], sort=True)
    )


def _pairs(matrix: np.ndarray, cameras: list[str]) -> dict[str, float]:
    return {
        f"{cameras[a]}-{cameras[b]}": round(float(matrix[a, b]), 2)
        for a in range(len(cameras))
        for b in range(a + 1, len(cameras))
        if matrix[a, b] > 0
    }
