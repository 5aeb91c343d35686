"""The plan of a synthetic world, decided entirely by the config and its seed before anything is drawn.

Cameras with their geometry and photometry; identities with their looks; a camera-network topology whose
edges say which side of one camera leads to which side of another and how long the walk between takes; and
the schedule: *journeys*, each a person entering the network, appearing in a chain of cameras (moving along
topology edges after their transit time, or going round the block and coming back into the same camera) and
leaving. Journeys arrive as a Poisson process whose rate gives the configured crowd density; each goes to a
free identity, preferring the least used, so that every identity appears and many recur.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reid_from_video.synth.appearance import Look, make_looks
from reid_from_video.synth.camera import CameraSpec, random_camera
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.motion import SIDES, Path, plan_path

FORMAT = "reid_from_video.synth/1"
MAX_VISITS = 6


@dataclass(frozen=True)
class Edge:
    """Leaving camera ``a`` by ``side_a`` leads, after about ``transit_s`` seconds, into ``b`` by ``side_b``
    (and back the other way)."""

    a: int
    b: int
    side_a: str
    side_b: str
    transit_s: float


@dataclass(frozen=True)
class Visit:
    """One appearance of one identity in one camera."""

    identity: int  # 1-based, global across cameras
    camera: int  # 1-based
    journey: int
    entry: str
    exit: str
    path: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "camera": self.camera,
            "journey": self.journey,
            "t_in": round(self.path.t_in, 4),
            "t_out": round(self.path.t_out, 4),
            "entry": self.entry,
            "exit": self.exit,
            "path": self.path.to_dict(),
        }


@dataclass
class World:
    config: SynthConfig
    cameras: list[CameraSpec]
    looks: list[Look]  # looks[i] is identity i + 1
    similar_pairs: list[list[int]]
    edges: list[Edge]
    visits: list[Visit]
    train_ids: list[int]
    test_ids: list[int]

    def visits_of_camera(self, camera: int) -> list[Visit]:
        return [v for v in self.visits if v.camera == camera]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written as world.json (rounded, so it is byte-stable for a seed)."""
        c = self.config

        def rounded(value: Any) -> Any:
            if isinstance(value, float):
                return round(value, 4)
            if isinstance(value, dict):
                return {k: rounded(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [rounded(v) for v in value]
            return value

        return {
            "format": FORMAT,
            "seed": c.seed,
            **({"people_seed": c.people_seed} if c.people_seed >= 0 else {}),  # old worlds: same bytes
            "fps": c.fps,
            "seconds": c.seconds,
            "frames": c.n_frames,
            "size": [c.width, c.height],
            "cameras": [rounded(cam.to_dict()) for cam in self.cameras],
            "identities": [
                {
                    "id": i + 1,
                    "split": "train" if i + 1 in self.train_ids else "test",
                    **rounded(look.to_dict()),
                }
                for i, look in enumerate(self.looks)
            ],
            "similar_pairs": self.similar_pairs,
            "topology": [rounded(edge.__dict__) for edge in self.edges],
            "split": {"train": self.train_ids, "test": self.test_ids},
            "schedule": [v.to_dict() for v in self.visits],
        }


def _rng(seed: int, *purpose: int) -> np.random.Generator:
    """An independent stream per purpose, so adding cameras does not reshuffle the identities."""
    return np.random.default_rng([seed, *purpose])


def make_topology(rng: np.random.Generator, cameras: int, seconds: float) -> list[Edge]:
    """A chain of cameras, closed into a ring with some chance, plus the odd shortcut; sides distinct."""
    pairs = [(k, k + 1) for k in range(1, cameras)]
    if cameras >= 3 and rng.random() < 0.6:
        pairs.append((cameras, 1))
    if cameras >= 4:
        a, b = sorted(int(v) for v in rng.choice(np.arange(1, cameras + 1), 2, replace=False))
        if (a, b) not in pairs and (b, a) not in pairs:
            pairs.append((a, b))
    free = {k: list(rng.permutation(SIDES)) for k in range(1, cameras + 1)}
    scale = min(seconds, 120.0)
    edges = []
    for a, b in pairs:
        if not free[a] or not free[b]:
            continue
        side_a, side_b = str(free[a].pop()), str(free[b].pop())
        transit = max(1.0, float(rng.uniform(0.04, 0.12)) * scale)
        edges.append(Edge(a, b, side_a, side_b, round(transit, 2)))
    return edges


def _neighbours(edges: list[Edge], camera: int) -> list[tuple[int, str, str, float]]:
    """(other camera, side leaving here, side entering there, transit) for each edge at ``camera``."""
    out = []
    for e in edges:
        if e.a == camera:
            out.append((e.b, e.side_a, e.side_b, e.transit_s))
        elif e.b == camera:
            out.append((e.a, e.side_b, e.side_a, e.transit_s))
    return out


def _other_side(rng: np.random.Generator, side: str) -> str:
    return str(rng.choice([s for s in SIDES if s != side]))


def plan_journey(
    rng: np.random.Generator,
    cameras: list[CameraSpec],
    edges: list[Edge],
    identity: int,
    journey: int,
    look: Look,
    t_start: float,
    revisit: float,
) -> list[Visit]:
    """The visits of one journey: a chain of cameras along the topology, with same-camera returns."""
    camera = int(rng.integers(1, len(cameras) + 1))
    entry = str(rng.choice(SIDES))
    n_visits = min(MAX_VISITS, int(rng.geometric(0.35)))
    t_in = t_start
    visits = []
    for k in range(n_visits):
        last = k == n_visits - 1
        hops = _neighbours(edges, camera)
        if last:
            move, exit_side = None, _other_side(rng, entry)
        elif rng.random() < revisit or not hops:
            move = (camera, None, None, float(rng.uniform(3.0, 10.0)))
            exit_side = _other_side(rng, entry)
        else:
            move = hops[int(rng.integers(len(hops)))]
            exit_side = move[1]
        speed = look.speed * float(rng.uniform(0.9, 1.1))
        path = plan_path(rng, cameras[camera - 1], entry, exit_side, speed, t_in)
        visits.append(Visit(identity, camera, journey, entry, exit_side, path))
        if move is None:
            break
        next_camera, _, side_b, transit = move
        jitter = float(rng.uniform(0.85, 1.2))
        t_in = path.t_out + transit * jitter
        entry = exit_side if side_b is None else side_b  # back into the same camera the way they left
        camera = next_camera
    return visits


def _mean_visit_seconds(seed: int, cameras: list[CameraSpec]) -> float:
    rng = _rng(seed, 9)
    durations = []
    for cam in cameras:
        for _ in range(24):
            entry = str(rng.choice(SIDES))
            path = plan_path(rng, cam, entry, _other_side(rng, entry), 1.3, 0.0)
            durations.append(path.t_out)
    return float(np.mean(durations))


def _occupancy(visits: list[Visit], config: SynthConfig) -> float:
    """Mean number of people in view per camera over the video (from the paths' time spans)."""
    seen = sum(max(0.0, min(v.path.t_out, config.seconds) - max(v.path.t_in, 0.0)) for v in visits)
    return seen / (config.cameras * config.seconds)


def _schedule(
    config: SynthConfig, cameras: list[CameraSpec], looks: list[Look], edges: list[Edge], rate: float
) -> list[Visit]:
    """Journeys arriving at ``rate`` per second, each given to a free identity (the least used first)."""
    rng = _rng(config.people, 4)
    t = -60.0 + rng.exponential(1.0 / rate)  # started early: people are already about at the first frame
    starts = []
    while t < config.seconds:
        starts.append(t)
        t += rng.exponential(1.0 / rate)
    order = rng.permutation(config.identities)  # tie-break among identities used equally often
    free_at = np.full(config.identities, -np.inf)
    used = np.zeros(config.identities, int)
    visits: list[Visit] = []
    for journey, t_start in enumerate(starts):
        candidates = [i for i in order if free_at[i] <= t_start]
        if not candidates:
            continue  # everybody is busy: the crowd is as dense as the identities allow
        person = min(candidates, key=lambda i: used[i])
        planned = plan_journey(
            rng, cameras, edges, int(person) + 1, journey, looks[person], t_start, config.revisit
        )
        free_at[person] = planned[-1].path.t_out + rng.uniform(2.0, 8.0)
        seen = [v for v in planned if v.path.t_out >= 0 and v.path.t_in < config.seconds]
        used[person] += bool(seen)  # a journey over before the video starts does not count
        visits.extend(seen)
    # Journey numbers count only the journeys given to somebody.
    renumber = {j: k for k, j in enumerate(sorted({v.journey for v in visits}))}
    return [Visit(v.identity, v.camera, renumber[v.journey], v.entry, v.exit, v.path) for v in visits]


def plan_world(config: SynthConfig) -> World:
    """The whole plan for ``config``: cameras, backgrounds and topology from ``config.seed``, the people
    (looks, journeys, split) from ``config.people``."""
    seed = config.seed
    style = int(_rng(seed, 1).integers(3))
    cameras = [
        random_camera(_rng(seed, 1, k), k, config.width, config.height, style)
        for k in range(1, config.cameras + 1)
    ]
    looks, similar = make_looks(_rng(config.people, 2), config.identities, config.n_similar_pairs)
    edges = make_topology(_rng(seed, 3), config.cameras, config.seconds)

    # Journeys arrive at the rate that keeps `density` people in view per camera on average: a first guess
    # from the mean visit length, corrected a few times by the occupancy each schedule actually reaches
    # (busy identities and the video's edges make it nonlinear); the closest schedule is kept.
    rate = config.density * config.cameras / (_mean_visit_seconds(seed, cameras) * 2.8)
    best: tuple[float, list[Visit]] | None = None
    for _ in range(6):
        candidate = _schedule(config, cameras, looks, edges, rate)
        reached = _occupancy(candidate, config)
        if best is None or abs(reached - config.density) < best[0]:
            best = (abs(reached - config.density), candidate)
        rate *= float(np.clip(config.density / max(reached, 1e-3), 0.5, 2.0)) ** 0.7
    visits = best[1]

    split_rng = _rng(config.people, 5)
    ids = np.arange(1, config.identities + 1)
    n_test = int(np.clip(round(config.identities * config.test_fraction), 1, config.identities - 1))
    test = sorted(int(i) for i in split_rng.choice(ids, n_test, replace=False))
    train = sorted(set(ids.tolist()) - set(test))
    return World(config, cameras, looks, similar, edges, visits, train, test)
