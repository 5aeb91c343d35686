"""TMC's noise reduction on the simulated noisy MARS sets: the eps_intra sweep of TMC Table 4 and the
isolation ablation of TMC Table 3, on synthetic frame features, measured against the ground truth.

For each preset (rFM, rSW) the real MARS train tracklets (625 identities, 8298 clean tracklets, 509,914
frames; only ``info/`` is needed) are cut and regrouped into noisy tracklets (:mod:`reid_from_video.noise.
simulate`, as ``rfv simulate -c mars_<rfm>_<rsw>``). Every frame gets a feature, then TMC runs with the
paper's settings: intra-tracklet isolation (DBSCAN, ``eps_intra`` swept, min_samples 4, noise frames dropped)
and one inter-tracklet association (32 consecutive frames per sub-tracklet average-pooled; k-reciprocal
Jaccard distance k1=30, k2=6; DBSCAN with the data-dependent eps, rho=1.6e-3, min_samples 4; un-clustered
sub-tracklets dropped). Printed per preset, one row per eps_intra plus the row without isolation:

* isolation: the noise ratio of the sub-tracklets (TMC Table 4's "noise": mean share of the frames of a
  sub-tracklet that are not of its majority identity, %), their number (Table 4's "#clusters"), rSW of the
  input tracklets and of the sub-tracklets, rFM of the sub-tracklets, the frames dropped as DBSCAN noise;
* association: eps_inter, the number of pseudo identities against the 625 true ones, the sub-tracklets left
  un-clustered, purity / NMI / ARI of the frame labels against the identities (counted on the labelled
  frames only), the share of frames labelled, and "pure %": the share of all frames labelled with their
  label's majority identity (labelled share x purity: what a trainer gets right, dropped frames included);
* seconds per stage, and the paper's Table 4 (noise, #clusters, mAP, rank-1) and Table 3 (no isolation:
  mAP, rank-1) figures of the same setting for reference.

The features (no images: MARS's pictures are not needed, nor a network) imitate ImageNet-pretrained ResNet-50
features of pedestrian crops, the features TMC isolates with. One vector per MARS image (so every preset sees
the same features for the same image), the sum of independent parts, each a random direction scaled so that
its expected share of the squared norm is as given (:class:`FeatureModel`), then L2-normalised:

* a *common* part shared by every crop (ImageNet features of people are alike: cosine 0.5-0.7 between
  strangers) and a per-camera part (light, colour, viewpoint of the camera);
* the person: a low-dimensional *appearance* (clothing colour and style: ``appearance_dims`` dimensions, so
  some people look alike) plus an *individual* part (its size varies per person, log-normal);
* a per-clean-MARS-tracklet shift (pose, light, distance on that pass: a person's separate tracklets differ;
  the clean tracklet of every frame is the ``source_tracklet`` of ``Simulation.pieces``);
* *views*: a tracklet is cut into segments (mean ``view_frames`` frames) where the person turns, each with
  its own shift: what fragments a clean tracklet when eps_intra is small;
* per-frame jitter (box, blur), its size per tracklet (image quality);
* *occlusion* episodes (every ``occlusion_every`` frames on average, 4-12 frames, triangular profile with a
  random peak): the frame slides towards the camera's background feature. They bridge different people in
  one tracklet through dense chains of frames (DBSCAN's weakness), more so as eps_intra grows;
* a few *outlier* frames (a random direction: a bad box), left as DBSCAN noise.

The shares are chosen so that the trends of Table 4 show: at eps_intra 0.4 the sub-tracklets are clean but
the clean tracklets fragment (about 2.5x as many sub-tracklets as clean tracklets), at 0.6 there are about as
many as clean tracklets and rSW is near 1, at 0.7 more people merge (noise grows, sub-tracklets fewer than
the clean tracklets). The absolute figures are *not* comparable with the paper's (other features, one
association on fixed features instead of one per epoch of training, purity / ARI instead of mAP after
training): only the trends are. ``--model KEY=VALUE`` changes a share to see how the results move.

    python examples/label_simulated_mars.py [--mars PATH] [--presets 1.7,1.2 2.5,1.2 2.5,1.5]
        [--eps-intra 0.4 0.5 0.6 0.7] [--sweep first|all] [--eps-default 0.6] [--dim 128] [--seed 0]
        [--device auto] [--model KEY=VALUE ...] [--out sweep.csv|sweep.json]

By default the eps_intra sweep runs on the first preset and the others run at ``--eps-default`` (the paper's
section 4.3 setting); every preset also runs without isolation. MARS is found at ``--mars``, else at
``$RFV_DATA/mars`` (RFV_DATA defaults to ../shared/data beside the repository, as for the tests).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from reid_from_video.core.atomic import atomic_write, write_json
from reid_from_video.io.mars import load_mars, run_offsets
from reid_from_video.labels.config import AssociationConfig, ClusterConfig, IsolationConfig
from reid_from_video.labels.quality import label_quality, row_labels
from reid_from_video.labels.tmc import (
    DROPPED,
    associate,
    association_windows,
    isolate,
    pooled_features,
    sub_tracklets,
)
from reid_from_video.noise.config import SimulateConfig
from reid_from_video.noise.simulate import Simulation, simulate

REPO = Path(__file__).resolve().parents[1]

# TMC Table 4: eps_intra -> (noise %, #clusters, mAP, rank-1), per simulated set (rFM, rSW).
PAPER_TABLE4 = {
    (1.7, 1.2): {
        0.4: (0.57, 21720, 35.0, 48.8),
        0.5: (0.84, 13847, 54.5, 66.2),
        0.6: (1.4, 8963, 50.8, 62.0),
        0.7: (2.5, 6541, 9.8, 15.7),
    },
    (2.5, 1.2): {
        0.4: (1.1, 20919, 40.1, 53.8),
        0.5: (1.8, 13673, 55.3, 68.2),
        0.6: (2.6, 9383, 52.5, 66.5),
        0.7: (3.8, 7352, 15.6, 20.1),
    },
    (2.5, 1.5): {
        0.4: (1.8, 20958, 39.1, 52.5),
        0.5: (2.6, 13689, 47.1, 57.7),
        0.6: (3.9, 9401, 53.4, 63.7),
        0.7: (7.1, 7306, 12.4, 19.9),
    },
}
# TMC Table 3, without intra-tracklet isolation (inter-tracklet association only): (mAP, rank-1).
PAPER_TABLE3_NO_ISOLATION = {(1.7, 1.2): (8.0, 17.3), (2.5, 1.2): (14.4, 22.0), (2.5, 1.5): (11.8, 22.7)}


@dataclass(frozen=True)
class FeatureModel:
    """Shares of the squared norm (before normalisation) of each part of a synthetic frame feature; the
    common part takes what the others leave. See the module docstring."""

    appearance: float = 0.25  # clothing: low-dimensional, so some people look alike
    appearance_dims: int = 8
    individual: float = 0.12  # the rest of a person's look
    individual_spread: float = 0.5  # log-normal sigma of its size per person
    camera: float = 0.05
    tracklet: float = 0.14  # per clean MARS tracklet
    tracklet_spread: float = 0.4
    view: float = 0.18  # per view segment inside a clean tracklet
    view_frames: float = 15.0  # mean segment length, frames
    view_spread: float = 0.5
    frame: float = 0.035  # per-frame jitter
    quality_spread: float = 0.4  # log-normal sigma of the jitter per tracklet
    background: float = 0.1  # per-camera part of the background feature occluded frames slide to
    occlusion_every: float = 60.0  # frames per occlusion episode, on average (0: none)
    occlusion_frames: tuple[int, int] = (4, 12)
    occlusion_peak: tuple[float, float] = (0.2, 1.0)
    outliers: float = 0.02  # share of frames with a bad box
    outlier_weight: float = 0.5

    @property
    def common(self) -> float:
        parts = (self.appearance, self.individual, self.camera, self.tracklet, self.view, self.frame)
        common = 1.0 - sum(parts)
        if common < 0:
            raise ValueError(f"the shares add up to more than 1: {sum(parts):.3f}")
        return common


def mars_features(train: pd.DataFrame, model: FeatureModel, dim: int, seed: int) -> np.ndarray:
    """One unit-length float32 feature per MARS train image (row = image number - 1)."""
    rng = np.random.default_rng(seed)
    tracks = train.sort_values("start")
    n = tracks["n_frames"].to_numpy()
    if (
        tracks["start"].iloc[0] != 1
        or not (tracks["start"].to_numpy()[1:] == tracks["end"].to_numpy()[:-1] + 1).all()
    ):
        raise ValueError("expected the MARS train tracklets to cover images 1..N without gaps")
    pid = pd.factorize(tracks["pid"])[0]
    camera = tracks["camera"].to_numpy()
    tracklet = np.repeat(np.arange(len(n)), n)  # per image
    position = run_offsets(n)

    def directions(count: int) -> np.ndarray:
        v = rng.normal(size=(count, dim))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def sizes(count: int, spread: float) -> np.ndarray:  # log-normal, mean square 1
        s = np.exp(spread * rng.normal(size=count))
        return s / np.sqrt((s**2).mean())

    people = pid.max() + 1
    basis = np.linalg.qr(rng.normal(size=(dim, model.appearance_dims)))[0].T
    look = rng.normal(size=(people, model.appearance_dims)) / np.sqrt(model.appearance_dims)
    person = np.sqrt(model.appearance) * look @ basis
    person += np.sqrt(model.individual) * sizes(people, model.individual_spread)[:, None] * directions(people)
    everyone = directions(1)
    common = np.sqrt(model.common) * everyone
    cameras = np.sqrt(model.camera) * directions(camera.max() + 1)
    shift = np.sqrt(model.tracklet) * sizes(len(n), model.tracklet_spread)[:, None] * directions(len(n))
    turns = (rng.random(len(tracklet)) < 1 / model.view_frames) | (position == 0)
    segment = np.cumsum(turns) - 1
    views = np.sqrt(model.view) * sizes(segment[-1] + 1, model.view_spread)[:, None]
    views = views * directions(segment[-1] + 1)
    jitter = np.sqrt(model.frame / dim) * sizes(len(n), model.quality_spread)
    background = everyone + np.sqrt(model.background) * directions(camera.max() + 1)
    background /= np.linalg.norm(background, axis=1, keepdims=True)
    occlusion = _occlusion(n, model, rng)
    outlier = rng.random(len(tracklet)) < model.outliers

    out = np.empty((len(tracklet), dim), np.float32)
    for start in range(0, len(tracklet), 65536):
        rows = slice(start, min(start + 65536, len(tracklet)))
        t = tracklet[rows]
        f = common + person[pid[t]] + cameras[camera[t]] + shift[t] + views[segment[rows]]
        f += jitter[t][:, None] * rng.normal(size=f.shape)
        f /= np.linalg.norm(f, axis=1, keepdims=True)
        a = occlusion[rows, None]
        f = (1 - a) * f + a * background[camera[t]]
        bad = outlier[rows]
        f[bad] += np.sqrt(model.outlier_weight) * directions(int(bad.sum()))
        out[rows] = f / np.linalg.norm(f, axis=1, keepdims=True)
    return out


def _occlusion(n: np.ndarray, model: FeatureModel, rng: np.random.Generator) -> np.ndarray:
    """Per image, how far it slides towards the background (0..1): triangular episodes, the largest wins."""
    weight = np.zeros(int(n.sum()))
    if model.occlusion_every <= 0:
        return weight
    episodes = np.repeat(np.arange(len(n)), rng.poisson(n / model.occlusion_every))
    low, high = model.occlusion_frames
    length = rng.integers(low, high + 1, size=len(episodes))
    start = (rng.random(len(episodes)) * (n[episodes] + length)).astype(np.int64) - length  # may overhang
    peak = rng.uniform(*model.occlusion_peak, size=len(episodes))
    offset = run_offsets(length)
    which = np.repeat(np.arange(len(episodes)), length)
    position = start[which] + offset
    inside = (position >= 0) & (position < n[episodes[which]])
    half = (length[which] + 1) / 2
    profile = peak[which] * (1 - np.abs(offset - (length[which] - 1) / 2) / half)
    first = np.cumsum(n) - n
    np.maximum.at(weight, (first[episodes[which]] + position)[inside], profile[inside])
    return weight


def index_images(simulation: Simulation) -> np.ndarray:
    """The MARS image number of every row of the simulation's index (its rows follow the pieces)."""
    pieces = simulation.pieces
    lengths = pieces["n_frames"].to_numpy()
    return np.repeat(pieces["first_image"].to_numpy(), lengths) + run_offsets(lengths)


def run_tmc(
    index: pd.DataFrame, features: np.ndarray, isolation: IsolationConfig, association: AssociationConfig
) -> dict[str, Any]:
    """The steps of :func:`~reid_from_video.labels.tmc.tmc_labels`, timed one by one; the quality figures."""
    start = time.perf_counter()
    # One DBSCAN per tracklet, each a few milliseconds: OpenMP threads only wait on each other, and on a
    # busy machine every call then costs a scheduler slice (isolate() 5 s on one thread, up to 100 s on two).
    with threadpool_limits(limits=1, user_api="openmp"):
        sub_track = isolate(index, features, isolation)
    isolated = time.perf_counter()
    groups = sub_tracklets(index, sub_track)
    rng = np.random.default_rng(association.seed)
    windows = association_windows(groups["rows"].tolist(), association.frames, rng)
    labels, clustering = associate(pooled_features(features, windows), association)
    table = groups[["camera", "track", "sub_track"]].assign(label=labels)
    table = table[table["label"] != DROPPED]
    associated = time.perf_counter()
    report = label_quality(index, row_labels(index, table, sub_track), sub_track)
    after, scores = report["after_isolation"], report["labels"]
    return {
        "noise_pct": after["noise_ratio_pct"],
        "sub_tracklets": after["tracklets"],
        "noise_in_pct": report["tracklets_in"]["noise_ratio_pct"],
        "rsw_in": report["tracklets_in"]["rsw"],
        "rsw_out": after["rsw"],
        "rfm_out": after["rfm"],
        "dropped_pct": 100 * after["frames_dropped"] / len(index),
        "isolation_s": isolated - start,
        "eps_inter": clustering.eps,
        "clusters": clustering.n_clusters,
        "identities": scores["identities"],
        "unclustered": clustering.n_noise,
        "purity": scores["purity"],
        "nmi": scores["nmi"],
        "ari": scores["ari"],
        "labelled_pct": 100 * scores["labelled_share"],
        "pure_labelled_pct": 100 * scores["labelled_share"] * scores["purity"],
        "association_s": associated - isolated,
        "cluster_s": clustering.seconds,
    }


def parse_preset(text: str) -> tuple[float, float]:
    """``1.7,1.2`` or ``mars_1.7_1.2`` -> (1.7, 1.2)."""
    parts = text.removeprefix("mars_").replace("_", ",").split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"a preset is rfm,rsw (e.g. 1.7,1.2), not {text!r}")
    return float(parts[0]), float(parts[1])


def parse_model(pairs: list[str]) -> FeatureModel:
    """``KEY=VALUE`` overrides of :class:`FeatureModel`."""
    model = FeatureModel()
    kinds = {field.name: field.type for field in dataclasses.fields(FeatureModel)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in kinds:
            raise SystemExit(f"--model: no feature-model setting {key!r} (one of {', '.join(kinds)})")
        if kinds[key].startswith("tuple"):
            changes[key] = tuple(
                type(x)(v) for x, v in zip(getattr(model, key), value.split(","), strict=True)
            )
        else:
            changes[key] = type(getattr(model, key))(value)
    return dataclasses.replace(model, **changes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data = Path(os.environ.get("RFV_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--mars", type=Path, default=data / "mars", help="MARS root or its info/ folder")
    parser.add_argument(
        "--presets",
        type=parse_preset,
        nargs="+",
        default=[(1.7, 1.2), (2.5, 1.2), (2.5, 1.5)],
        help="rfm,rsw",
    )
    parser.add_argument("--eps-intra", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.7], help="swept")
    parser.add_argument("--sweep", choices=("first", "all"), default="first", help="presets swept")
    parser.add_argument("--eps-default", type=float, default=0.6, help="eps_intra of the presets not swept")
    parser.add_argument("--dim", type=int, default=128, help="feature dimension")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulation and of the features")
    parser.add_argument("--device", default="auto", help="where the Jaccard distances are computed")
    parser.add_argument("--model", nargs="*", default=[], metavar="KEY=VALUE", help="feature-model settings")
    parser.add_argument("--out", type=Path, help="write the rows as CSV, or JSON when it ends in .json")
    args = parser.parse_args()

    model = parse_model(args.model)
    # The paper's association: eps=0 is the data-dependent eps.
    cluster = ClusterConfig(k1=30, k2=6, eps=0.0, rho=1.6e-3, min_samples=4, device=args.device)
    association = AssociationConfig(frames=32, unclustered="drop", cluster=cluster)
    begin = time.perf_counter()
    mars = load_mars(args.mars)
    features = mars_features(mars.train, model, args.dim, args.seed)
    train = mars.train[mars.train["pid"] > 0]
    # Image number - 1 -> person (mars_features checked that the tracklets cover the images in order).
    by_start = mars.train.sort_values("start")
    pid_of_image = np.repeat(by_start["pid"].to_numpy(), by_start["n_frames"].to_numpy())
    print(
        f"MARS train: {len(train)} clean tracklets, {train['pid'].nunique()} identities, "
        f"{int(train['n_frames'].sum())} frames; features: {args.dim}-d, seed {args.seed} "
        f"({time.perf_counter() - begin:.1f} s)"
    )
    print(f"feature model: {dataclasses.asdict(model)} (common {model.common:.3f})")
    print(
        "association: 32 frames pooled, Jaccard k1=30 k2=6, data-dependent eps rho=1.6e-3, min_samples 4; "
        "isolation: DBSCAN min_samples 4, noise frames dropped\n"
    )

    rows: list[dict[str, Any]] = []
    for number, (rfm, rsw) in enumerate(args.presets):
        started = time.perf_counter()
        simulation = simulate(mars, SimulateConfig(rfm=rfm, rsw=rsw, seed=args.seed))
        index = simulation.index.reset_index(drop=True)
        images = index_images(simulation)
        if not (pid_of_image[images - 1] == index["gt_id"].to_numpy(np.int64)).all():
            raise RuntimeError("the simulation's index rows do not follow its pieces")
        frame_features = features[images - 1]
        settings: list[float | None] = (
            list(args.eps_intra) if args.sweep == "all" or number == 0 else [args.eps_default]
        )
        preset_rows = []
        for eps in [*settings, None]:
            isolation = (
                IsolationConfig(enabled=False) if eps is None else IsolationConfig(eps=eps, min_samples=4)
            )
            figures = run_tmc(index, frame_features, isolation, association)
            paper = PAPER_TABLE4.get((rfm, rsw), {}).get(eps) if eps is not None else None
            no_iso = PAPER_TABLE3_NO_ISOLATION.get((rfm, rsw)) if eps is None else None
            preset_rows.append(
                {
                    "preset": f"MARS {rfm:g} {rsw:g}",
                    "eps_intra": eps,
                    **figures,
                    "paper_noise_pct": paper[0] if paper else None,
                    "paper_clusters": paper[1] if paper else None,
                    "paper_map": paper[2] if paper else (no_iso[0] if no_iso else None),
                    "paper_rank1": paper[3] if paper else (no_iso[1] if no_iso else None),
                }
            )
        print(
            f"MARS {rfm:g} {rsw:g}: {simulation.rates.tracklets} noisy tracklets, "
            f"rFM {simulation.rates.rfm:.3f}, rSW {simulation.rates.rsw:.3f}, "
            f"noise {preset_rows[0]['noise_in_pct']:.2f}% "
            f"({time.perf_counter() - started:.0f} s)"
        )
        print(_format(preset_rows) + "\n")
        rows.extend(preset_rows)

    print(
        "paper columns: TMC Table 4 (noise %, #clusters, mAP, rank-1 after training) and, for the row "
        "without isolation, Table 3; synthetic features: compare trends, not values"
    )
    print(f"total {time.perf_counter() - begin:.0f} s")
    if args.out:
        if args.out.suffix == ".json":
            write_json(args.out, {"feature_model": dataclasses.asdict(model), "dim": args.dim, "rows": rows})
        else:
            with atomic_write(args.out) as handle:
                pd.DataFrame(rows).to_csv(handle, index=False)
        print(f"wrote {args.out}")
    return 0


def _format(rows: list[dict[str, Any]]) -> str:
    def num(value: Any, spec: str) -> str:
        return "-" if value is None or value != value else format(value, spec)

    shown = pd.DataFrame(
        {
            "eps_intra": [
                num(r["eps_intra"], "g") if r["eps_intra"] is not None else "no iso." for r in rows
            ],
            "noise %": [num(r["noise_pct"], ".2f") for r in rows],
            "#sub-trk": [r["sub_tracklets"] for r in rows],
            "rSW in>out": [f"{r['rsw_in']:.3f}>{r['rsw_out']:.3f}" for r in rows],
            "rFM out": [num(r["rfm_out"], ".2f") for r in rows],
            "drop %": [num(r["dropped_pct"], ".1f") for r in rows],
            "iso s": [num(r["isolation_s"], ".1f") for r in rows],
            "eps_inter": [num(r["eps_inter"], ".3f") for r in rows],
            "clusters/ids": [f"{r['clusters']}/{r['identities']}" for r in rows],
            "unclust.": [r["unclustered"] for r in rows],
            "purity": [num(r["purity"], ".3f") for r in rows],
            "NMI": [num(r["nmi"], ".3f") for r in rows],
            "ARI": [num(r["ari"], ".3f") for r in rows],
            "label %": [num(r["labelled_pct"], ".1f") for r in rows],
            "pure %": [num(r["pure_labelled_pct"], ".1f") for r in rows],
            "assoc s": [num(r["association_s"], ".1f") for r in rows],
            "| paper noise": [num(r["paper_noise_pct"], "g") for r in rows],
            "#clusters": [num(r["paper_clusters"], "d") for r in rows],
            "mAP": [num(r["paper_map"], "g") for r in rows],
            "rank-1": [num(r["paper_rank1"], "g") for r in rows],
        }
    )
    return shown.to_string(index=False)


if __name__ == "__main__":
    raise SystemExit(main())
