"""Noisy tracklets simulated from clean ones at a target rate of fragmentation and switch (TMC section 4.1).

The video of the re-ID datasets is not public, so the TMC paper simulates a tracker's noise on MARS: per
camera, the clean tracklets of each identity are cut and regrouped into noisy tracklets so that, measured as
in :mod:`reid_from_video.noise.rfm_rsw` (an identity counts once per camera), the result has the target
rFM (tracklets per identity) and rSW (identities per tracklet). Per camera, with M identities:

1. ``T = round(M * rfm)`` (tracklet, identity) incidences and ``N = round(T / rsw)`` noisy tracklets;
2. how many identities each noisy tracklet holds, ``|Q_i|``: drawn (stratified, then nudged so they sum to
   T exactly) from a distribution with mean rsw: ``1 + Poisson(rsw - 1)`` by default, or the shape of a
   ``|Q_i|`` histogram measured by ``rfv mot-eval`` on a real tracker, exponentially tilted to mean rsw;
3. how many noisy tracklets each identity lands in, ``r_p``: 1 each, plus the other ``T - M`` incidences
   spread over the identities uniformly at random (so ``r_p - 1`` is about Poisson(rfm - 1));
4. identities assigned to the tracklets' slots at random (largest tracklets first, each identity drawn with
   weight its remaining incidences), distinct within a tracklet;
5. an identity's frames cut into ``r_p`` pieces: its clean tracklets grouped when it has more than ``r_p``,
   split at random frames when it has fewer; one piece per slot;
6. the pieces inside each noisy tracklet shuffled (frames inside a piece keep their order).

Every source frame lands in exactly one noisy tracklet, and the ground-truth identity of every frame is kept.
Deterministic for a seed. The output is a tracklet store index (``index.csv``: one row per frame, paths to
the MARS images, no copies), the piece table behind it (``pieces.csv``), and a report (``simulate.json``)
with the achieved rates and histograms.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write, write_json
from reid_from_video.core.config import save_config
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.core.lock import output_lock
from reid_from_video.io.mars import MarsDataset, frames_table, load_mars, run_offsets
from reid_from_video.io.store import INDEX_COLUMNS, write_index_table
from reid_from_video.noise.config import SimulateConfig
from reid_from_video.noise.rfm_rsw import NoiseRates, load_q_histogram, noise_rates

log = logging.getLogger(__name__)

PIECE_COLUMNS = ("camera", "track", "order", "pid", "source_tracklet", "first_image", "n_frames")


@dataclass(frozen=True)
class Simulation:
    """The noisy tracklets: ``index`` in the store's format (one row per frame, ``gt_id`` = MARS person id,
    ``frame`` = position in the noisy tracklet), ``pieces`` (one row per contiguous run of source frames),
    and the achieved ``rates`` measured on the result."""

    index: pd.DataFrame
    pieces: pd.DataFrame
    rates: NoiseRates
    per_camera: dict[str, dict[str, Any]]


def simulate(dataset: MarsDataset, config: SimulateConfig) -> Simulation:
    """Noisy tracklets from the clean tracklets of ``config.split`` of ``dataset`` (see the module doc)."""
    _check_config(config)
    tracks = _clean_tracklets(dataset, config.split)
    shape = _size_shape(config)
    rng = np.random.default_rng(config.seed)
    pieces, per_camera, next_track = [], {}, 1
    for camera, group in tracks.groupby("camera", sort=True):
        name = camera_name(int(camera))
        table = _simulate_camera(group, name, next_track, shape, config, rng)
        next_track += int(table["track"].nunique())
        pieces.append(table)
        per_camera[name] = {"identities": int(group["pid"].nunique()), "clean_tracklets": len(group)}
    pieces_table = pd.concat(pieces, ignore_index=True)
    index = _index_table(pieces_table, tracks)
    rates = measured_rates(pieces_table)
    for name, group in pieces_table.groupby("camera", sort=True):
        camera_rates = measured_rates(group)
        per_camera[name].update(
            noisy_tracklets=camera_rates.tracklets, rfm=camera_rates.rfm, rsw=camera_rates.rsw
        )
    return Simulation(index, pieces_table, rates, per_camera)


def camera_name(camera: int) -> str:
    """The store's camera name of MARS camera ``camera`` (``c1`` .. ``c6``)."""
    return f"c{camera}"


def measured_rates(pieces: pd.DataFrame) -> NoiseRates:
    """rFM / rSW of noisy tracklets, counted as ``rfv mot-eval`` does: an identity once per camera."""
    pairs = pieces.groupby(["camera", "track", "pid"], sort=True)["n_frames"].sum().reset_index()
    pairs = pairs.rename(columns={"camera": "sequence", "pid": "gt_id", "n_frames": "frames"})
    n_tracklets = len(pairs[["sequence", "track"]].drop_duplicates())
    n_ids = len(pairs[["sequence", "gt_id"]].drop_duplicates())
    return noise_rates(pairs, n_tracklets, n_ids)


# ------------------------------------------------------------------------------------------- outputs


def write_simulation(simulation: Simulation, out: str | Path, report: dict[str, Any]) -> list[Path]:
    """Write ``index.csv`` (a tracklet store index), ``pieces.csv`` and ``simulate.json`` under ``out``."""
    out = Path(out)  # atomic_write creates it
    index_path, pieces_path, report_path = out / "index.csv", out / "pieces.csv", out / "simulate.json"
    write_index_table(index_path, simulation.index)
    with atomic_write(pieces_path) as handle:
        simulation.pieces.to_csv(handle, index=False)
    write_json(report_path, report)
    return [index_path, pieces_path, report_path]


def run_simulate(mars: str | Path, out: str | Path, config: SimulateConfig) -> dict[str, Any]:
    """``rfv simulate``: noisy tracklets of the MARS root ``mars`` written to ``out`` (index.csv, pieces.csv,
    simulate.json, config.yaml); the report (``simulate.json``)."""
    dataset = load_mars(mars)
    simulation = simulate(dataset, config)
    report = simulation_report(simulation, config, source=str(dataset.root))
    with output_lock(out):
        written = [*write_simulation(simulation, out, report), save_config(config, Path(out))]
        log.info("wrote %s", ", ".join(map(str, written)))
    return report


def simulation_report(simulation: Simulation, config: SimulateConfig, source: str) -> dict[str, Any]:
    """The JSON report: targets, achieved rates with counts and histograms, per-camera figures."""
    return {
        "source": source,
        "split": config.split,
        "seed": config.seed,
        "target": {"rfm": config.rfm, "rsw": config.rsw},
        "achieved": simulation.rates.to_dict(),
        "frames": len(simulation.index),
        "pieces": len(simulation.pieces),
        "per_camera": simulation.per_camera,
    }


def format_report(report: dict[str, Any]) -> str:
    """A short table: per camera and overall, identities, noisy tracklets, rFM and rSW against the targets."""
    target = report["target"]
    lines = [f"{'camera':<8}{'ids':>6}{'clean':>7}{'noisy':>7}{'rFM':>8}{'rSW':>8}"]
    for name, row in report["per_camera"].items():
        lines.append(
            f"{name:<8}{row['identities']:>6}{row['clean_tracklets']:>7}{row['noisy_tracklets']:>7}"
            f"{row['rfm']:>8.3f}{row['rsw']:>8.3f}"
        )
    achieved = report["achieved"]
    clean = sum(row["clean_tracklets"] for row in report["per_camera"].values())
    lines.append(
        f"{'all':<8}{achieved['gt_ids']:>6}{clean:>7}{achieved['tracklets']:>7}"
        f"{achieved['rfm']:>8.3f}{achieved['rsw']:>8.3f}"
    )
    lines.append(
        f"target rFM {target['rfm']}, rSW {target['rsw']}; {report['frames']} frames, every one used once"
    )
    lines.append("|Q_i| histogram: " + ", ".join(f"{k}: {v}" for k, v in achieved["q_histogram"].items()))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- per camera


def _simulate_camera(
    tracks: pd.DataFrame,
    camera: str,
    first_track: int,
    shape: np.ndarray,
    config: SimulateConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    pids = np.sort(tracks["pid"].unique())
    frames_per_pid = tracks.groupby("pid")["n_frames"].sum().reindex(pids).to_numpy()
    n_ids = len(pids)
    incidences = max(n_ids, round(n_ids * config.rfm))
    n_noisy = max(1, round(incidences / config.rsw))
    max_size = min(len(shape) - 1, n_ids)
    sizes = _tracklet_sizes(n_noisy, incidences, shape[: max_size + 1], rng)
    # An identity can land in at most every noisy tracklet, and needs a frame in each.
    caps = np.minimum(frames_per_pid, n_noisy)
    if caps.sum() < incidences:
        raise ConfigError(
            f"camera {camera}: rfm={config.rfm} asks for {incidences} (tracklet, identity) incidences, "
            f"but its {n_ids} identities can fill at most {int(caps.sum())} "
            f"(frames, or {n_noisy} noisy tracklets)"
        )
    per_pid = _identity_counts(incidences, caps, rng)
    members = _assign(sizes, per_pid, rng, camera)
    slots_of: dict[int, list[int]] = {i: [] for i in range(n_ids)}
    for tracklet, ids in enumerate(members):
        for i in ids:
            slots_of[int(i)].append(tracklet)

    by_pid = {pid: group for pid, group in tracks.groupby("pid", sort=False)}
    rows: list[tuple[int, int, int, int, int]] = []  # (tracklet, pid, source tracklet, first image, n)
    for i, pid in enumerate(pids):
        group = by_pid[pid]
        pieces = _cut(group, len(slots_of[i]), rng)
        for tracklet, piece_group in zip(slots_of[i], pieces, strict=True):
            rows.extend((tracklet, int(pid), *piece) for piece in piece_group)
    table = pd.DataFrame(rows, columns=["slot", "pid", "source_tracklet", "first_image", "n_frames"])
    # Shuffle the pieces inside each noisy tracklet: a random key, sorted within the tracklet.
    table["key"] = rng.permutation(len(table))
    table = table.sort_values(["slot", "key"], kind="stable").reset_index(drop=True)
    table["order"] = table.groupby("slot").cumcount() + 1
    table["track"] = table["slot"] + first_track
    table["camera"] = camera
    return table[list(PIECE_COLUMNS)]


def _tracklet_sizes(n: int, total: int, pmf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``n`` values of ``|Q_i|`` (>= 1, <= len(pmf) - 1) drawn from ``pmf`` by stratified sampling, nudged
    by +-1 at random places so that they sum to ``total`` exactly."""
    max_size = len(pmf) - 1
    if not n <= total <= n * max_size:
        raise ConfigError(f"{total} incidences cannot fill {n} tracklets of 1..{max_size} identities")
    cdf = np.cumsum(pmf) / pmf.sum()
    quantiles = (np.arange(n) + rng.random(n)) / n
    sizes = np.minimum(np.searchsorted(cdf, quantiles, side="right"), max_size).astype(np.int64)
    sizes = np.maximum(sizes, 1)
    rng.shuffle(sizes)
    while (diff := total - int(sizes.sum())) != 0:
        movable = np.flatnonzero(sizes < max_size) if diff > 0 else np.flatnonzero(sizes > 1)
        chosen = rng.choice(movable, size=min(abs(diff), len(movable)), replace=False)
        sizes[chosen] += 1 if diff > 0 else -1
    return sizes


def _identity_counts(total: int, caps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Noisy tracklets per identity: 1 each, the remaining ``total - len(caps)`` spread uniformly at random
    over the identities below their cap."""
    counts = np.ones(len(caps), np.int64)
    left = total - len(caps)
    while left > 0:
        open_ids = np.flatnonzero(counts < caps)
        extra = np.bincount(rng.choice(open_ids, size=left), minlength=len(caps))
        counts = np.minimum(counts + extra, caps)
        left = total - int(counts.sum())
    return counts


def _assign(
    sizes: np.ndarray, per_pid: np.ndarray, rng: np.random.Generator, camera: str
) -> list[np.ndarray]:
    """Distinct identities (indices) for each tracklet's slots, using up ``per_pid`` exactly.

    Largest tracklets first, each drawing its identities with weight their remaining incidences: the
    one-identity tracklets at the end then take whatever is left, one incidence each.
    """
    remaining = per_pid.astype(np.float64)
    members: list[np.ndarray] = [np.empty(0, np.int64)] * len(sizes)
    for tracklet in np.argsort(-sizes, kind="stable"):
        k = int(sizes[tracklet])
        available = np.flatnonzero(remaining > 0)
        if len(available) < k:
            raise ConfigError(
                f"camera {camera}: no way to give a tracklet {k} distinct identities with the counts drawn; "
                "try another seed or a lower rsw"
            )
        weights = remaining[available] / remaining[available].sum()
        chosen = rng.choice(available, size=k, replace=False, p=weights)
        remaining[chosen] -= 1
        members[tracklet] = chosen
    return members


def _cut(group: pd.DataFrame, n_pieces: int, rng: np.random.Generator) -> list[list[tuple[int, int, int]]]:
    """One identity's frames in ``n_pieces`` parts; each part is a list of (source tracklet, first image, n).

    With more clean tracklets than parts, random consecutive groups of the shuffled tracklets form the
    parts; with fewer, tracklets are split at random frames (longer ones more likely) until there are enough.
    """
    segments = [
        (int(t), int(s), int(n))
        for t, s, n in zip(group["tracklet"], group["start"], group["n_frames"], strict=True)
    ]
    while len(segments) < n_pieces:
        lengths = np.array([n for _, _, n in segments], np.float64)
        which = int(rng.choice(len(segments), p=(lengths - 1) / (lengths - 1).sum()))
        tracklet, start, n = segments[which]
        cut = int(rng.integers(1, n))
        segments[which : which + 1] = [(tracklet, start, cut), (tracklet, start + cut, n - cut)]
    order = rng.permutation(len(segments))
    segments = [segments[i] for i in order]
    bounds = np.sort(rng.choice(np.arange(1, len(segments)), size=n_pieces - 1, replace=False))
    return [segments[a:b] for a, b in zip([0, *bounds], [*bounds, len(segments)], strict=True)]


# ------------------------------------------------------------------------------------------- helpers


def _check_config(config: SimulateConfig) -> None:
    if not (math.isfinite(config.rfm) and config.rfm >= 1):
        raise ConfigError(
            f"rfm must be a number >= 1 (every identity is in at least one tracklet), not {config.rfm}"
        )
    if not (math.isfinite(config.rsw) and config.rsw >= 1):
        raise ConfigError(f"rsw must be a number >= 1 (every tracklet holds an identity), not {config.rsw}")
    if config.split not in ("train", "test"):
        raise ConfigError(f"split must be train or test, not {config.split!r}")
    if config.max_ids_per_tracklet < 1:
        raise ConfigError(f"max_ids_per_tracklet must be >= 1, not {config.max_ids_per_tracklet}")
    if config.rsw > config.max_ids_per_tracklet:
        raise ConfigError(f"rsw={config.rsw} exceeds max_ids_per_tracklet={config.max_ids_per_tracklet}")


def _clean_tracklets(dataset: MarsDataset, split: str) -> pd.DataFrame:
    """The split's tracklets of real identities (junk 0 and distractors -1 are not people to track)."""
    tracks = dataset.train if split == "train" else dataset.test
    tracks = tracks[tracks["pid"] > 0]
    if tracks.empty:
        raise InputError(dataset.root, f"MARS {split} split has no tracklet of a real identity")
    return tracks


def _size_shape(config: SimulateConfig) -> np.ndarray:
    """The pmf of ``|Q_i|`` over 0..max (index = size; index 0 has weight 0), with mean ``config.rsw``."""
    max_size = config.max_ids_per_tracklet
    sizes = np.arange(max_size + 1)
    if config.q_histogram is None:
        from scipy import stats  # here: scipy.stats takes a fifth of a second to import

        base = np.where(sizes >= 1, stats.poisson.pmf(sizes - 1, max(config.rsw - 1, 1e-9)), 0.0)
    else:
        histogram = load_q_histogram(config.q_histogram)
        base = np.array([histogram.get(int(k), 0) if k >= 1 else 0 for k in sizes], np.float64)
        support = sizes[base > 0]
        if len(support) == 0:
            raise InputError(config.q_histogram, f"no |Q_i| up to max_ids_per_tracklet={max_size} in it")
        if not support.min() <= config.rsw <= support.max():
            raise InputError(
                config.q_histogram,
                f"rsw={config.rsw} is outside the histogram's sizes {support.min()}..{support.max()} "
                f"(up to max_ids_per_tracklet={max_size})",
            )
    return _tilt_to_mean(base, config.rsw)


def _tilt_to_mean(pmf: np.ndarray, mean: float) -> np.ndarray:
    """``pmf * exp(theta * k)`` renormalised, with theta chosen (bisection) so its mean is ``mean``: the
    distribution closest to ``pmf`` (in relative entropy) that has that mean."""
    support = np.flatnonzero(pmf > 0)
    if support.min() == support.max() or mean <= support.min() or mean >= support.max():
        if not support.min() <= mean <= support.max():
            raise ConfigError(f"no distribution on sizes {support.min()}..{support.max()} has mean {mean}")
        # The mean is an end of the support: all weight on that end.
        out = np.zeros_like(pmf)
        out[support.min() if mean <= support.min() else support.max()] = 1.0
        return out
    k = np.arange(len(pmf), dtype=np.float64)
    log_pmf = np.where(pmf > 0, np.log(np.where(pmf > 0, pmf, 1.0)), -np.inf)

    def tilted(theta: float) -> np.ndarray:
        logits = log_pmf + theta * k
        weights = np.exp(logits - logits[support].max())
        return weights / weights.sum()

    low, high = -50.0, 50.0
    for _ in range(200):
        middle = (low + high) / 2
        if float(tilted(middle) @ k) < mean:
            low = middle
        else:
            high = middle
    return tilted((low + high) / 2)


def _index_table(pieces: pd.DataFrame, tracks: pd.DataFrame) -> pd.DataFrame:
    """One store index row per frame, in noisy-tracklet order; ``path`` = the MARS image when known."""
    n = pieces["n_frames"].to_numpy()
    image = np.repeat(pieces["first_image"].to_numpy(), n) + run_offsets(n)
    track = np.repeat(pieces["track"].to_numpy(), n)
    index = pd.DataFrame(
        {
            "camera": np.repeat(pieces["camera"].to_numpy(), n),
            "track": track,
            "frame": pd.Series(track).groupby(track).cumcount().to_numpy() + 1,
            "time_s": math.nan,  # MARS keeps no time stamps
            "x": math.nan,  # nor boxes: its images are the crops
            "y": math.nan,
            "w": math.nan,
            "h": math.nan,
            "score": 1.0,
            "path": "",
            "gt_id": np.repeat(pieces["pid"].to_numpy(), n),
        }
    )
    if "paths" in tracks:
        frames = frames_table(tracks)
        # Absolute: the store resolves relative paths against its own root, not the MARS root's.
        absolute = [os.path.abspath(p) for p in frames["path"]]
        path_of = pd.Series(absolute, index=frames["image"].to_numpy())
        index["path"] = path_of.reindex(image).to_numpy()
    return index[list(INDEX_COLUMNS)]
