"""SSTT labelling (TAUDL 3.1) of a tracked synthetic world: how the identity duplication rate and the number
of labels move with the sampling period P, against giving every tracklet its own label.

Generates a world (`rfv synth`, default settings: 3 cameras x 60 s), tracks it with the synth preset keeping
the crops (`rfv track ... -c synth save_crops=true`: the store a trainer reads), attaches the gt ids of the
world's MOTChallenge ground truth to the store's crops, then samples labels at each P. Writes the sweep to
OUT/sstt_sweep-seedS.csv and the labels of the default SSTT settings to the store
(OUT/track-seedS/labels.csv).

    python examples/sstt_synth.py [--out runs/sstt-synth] [--seed 0] [--periods 1 2 4 8 16]

The world and the tracking are kept per seed under OUT and reused by a later run with the same seed.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.config import load_config
from reid_from_video.io.mot import find_sequences, pedestrians, read_mot, read_seqinfo
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.tracklets import tracklet_identity
from reid_from_video.labels.config import SsttConfig
from reid_from_video.labels.ground_truth import attach_gt_ids
from reid_from_video.labels.sstt import (
    duplication_rate,
    duplication_sweep,
    label_every_tracklet,
    sample_tracklets,
)
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.pipeline import synthesize
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

# A person out of a camera's gt for longer than this has left the view and come back (a re-appearance).
REVISIT_GAP_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/sstt-synth"), help="work folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic world")
    parser.add_argument("--periods", type=float, nargs="+", default=[1, 2, 4, 8, 16], help="P values, s")
    args = parser.parse_args()

    world, track = args.out / f"world-seed{args.seed}", args.out / f"track-seed{args.seed}"
    synth = load_config(SynthConfig, None, [f"seed={args.seed}", "contact_sheet=false", "mars.enabled=false"])
    if not (world / "world.json").is_file():
        synthesize(synth, world, progress=False)
    run_track(
        world / "videos",
        track,
        load_config(TrackConfig, "synth", ["save_crops=true", "progress=false"], stage="track"),
    )
    store = TrackletStore(track)
    index = attach_gt_ids(store.read_index(), world / "gt")
    identity = tracklet_identity(index)

    config = SsttConfig()
    visits = _gt_visits(world / "gt")
    print(f"world: {synth.cameras} cameras x {synth.seconds:g} s, seed {args.seed}; {_gt_context(visits)}")
    tracklets = index.groupby(["camera", "track"]).ngroups
    print(
        f"store: {len(index)} crops in {tracklets} tracklets, {index['gt_id'].notna().mean():.1%} of crops "
        f"matched to a gt box (IoU >= 0.5), {len(identity)} tracklets with a gt identity"
    )
    print(f"SSTT settings: {dataclasses.asdict(config)} (period_s swept)\n")

    sweep = duplication_sweep(index, config, args.periods, identity)
    sweep.insert(0, "sampling", [f"SSTT P={p:g} s" for p in sweep["period_s"]])
    sweep["in_one_stay"] = [
        _duplicated_in_one_stay(
            sample_tracklets(index, dataclasses.replace(config, period_s=p)), index, identity, visits
        )
        for p in sweep["period_s"]
    ]
    baselines = []
    for min_frames, name in (
        (config.min_frames, f"every tracklet >= {config.min_frames} rows"),
        (1, "every tracklet"),
    ):
        labels = label_every_tracklet(index, min_frames)
        figures = duplication_rate(labels, identity)
        figures.pop("per_camera")
        in_one_stay = _duplicated_in_one_stay(labels, index, identity, visits)
        baselines.append({"sampling": name, "period_s": np.nan, **figures, "in_one_stay": in_one_stay})
    table = pd.concat([sweep, pd.DataFrame(baselines)], ignore_index=True)
    print(_format(table))
    sweep_path = args.out / f"sstt_sweep-seed{args.seed}.csv"
    with atomic_write(sweep_path) as handle:
        table.to_csv(handle, index=False)

    labels = sample_tracklets(index, config)
    store.write_labels(labels)
    print(f"\nwrote {sweep_path} and {store.labels_path} ({len(labels)} labels, P={config.period_s:g} s)")
    return 0


def _gt_visits(gt_root: Path) -> pd.DataFrame:
    """One row per stay of a person in a camera's gt: camera, gt_id, start_s, end_s."""
    rows = []
    for camera, sequence in find_sequences(gt_root).items():
        gt = pedestrians(read_mot(sequence / "gt" / "gt.txt"))
        fps = read_seqinfo(sequence).frame_rate
        for gt_id, frames in gt.groupby("id")["frame"]:
            times = (np.sort(frames.to_numpy()) - 1) / fps
            for visit in np.split(times, np.flatnonzero(np.diff(times) > REVISIT_GAP_S) + 1):
                rows.append((camera, int(gt_id), float(visit[0]), float(visit[-1])))
    return pd.DataFrame(rows, columns=["camera", "gt_id", "start_s", "end_s"])


def _gt_context(visits: pd.DataFrame) -> str:
    """How long people stay in a view (TAUDL's Q) and how many come back to the same camera."""
    stays = visits["end_s"] - visits["start_s"]
    per_person = visits.groupby(["camera", "gt_id"]).size()
    return (
        f"gt: people stay {stays.median():.1f} s in a view (median; 90th percentile "
        f"{stays.quantile(0.9):.1f} s); {int((per_person > 1).sum())} of {len(per_person)} (camera, id) "
        "come back to the same camera"
    )


def _duplicated_in_one_stay(
    labels: pd.DataFrame, index: pd.DataFrame, identity: pd.Series, visits: pd.DataFrame
) -> int:
    """The (camera, id) with two labels on tracklets of one stay: duplicates no re-appearance explains.

    A tracklet belongs to the stay of its identity that holds the middle of its time span.
    """
    spans = index.groupby(["camera", "track"])["time_s"].agg(["min", "max"])
    stays = {key: group for key, group in visits.groupby(["camera", "gt_id"])}
    seen: set[tuple[str, int, int]] = set()
    duplicated: set[tuple[str, int]] = set()
    for camera, track in labels[["camera", "track"]].itertuples(index=False):
        gt_id = identity.get((camera, track))
        if gt_id is None or (camera, gt_id) not in stays:
            continue
        middle = spans.loc[(camera, track)].mean()
        own = stays[(camera, gt_id)]
        stay = int(np.argmin(np.maximum(own["start_s"] - middle, 0) + np.maximum(middle - own["end_s"], 0)))
        if (camera, gt_id, stay) in seen:
            duplicated.add((camera, gt_id))
        seen.add((camera, gt_id, stay))
    return len(duplicated)


def _format(table: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            "sampling": table["sampling"],
            "labels": table["labels"],
            "with gt": table["labels_known"],
            "dup. labels": table["duplicated_labels"],
            "rate (labels)": (100 * table["rate"]).map("{:.1f}%".format),
            "(cam, id)": table["identities"],
            "dup. (cam, id)": table["duplicated_identities"],
            "rate (ids, Table 6)": (100 * table["identity_rate"]).map("{:.1f}%".format),
            "dup. in one stay": table["in_one_stay"],
        }
    )
    return shown.to_string(index=False)


if __name__ == "__main__":
    raise SystemExit(main())
