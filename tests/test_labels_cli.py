"""``rfv label`` end to end: SSTT and TMC on a tracked synthetic world, TMC on a simulated store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_labels_tmc import identity_features, write_mars_info

from reid_from_video.cli import main
from reid_from_video.core.config import load_config
from reid_from_video.io.store import TrackletStore, check_labels
from reid_from_video.synth.config import SynthConfig
from reid_from_video.synth.pipeline import synthesize
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """A tiny synthetic world tracked with crops kept: (world folder, store folder)."""
    root = tmp_path_factory.mktemp("world")
    world = load_config(
        SynthConfig,
        None,
        [
            "cameras=2",
            "identities=8",
            "seconds=20",
            "fps=5",
            "size=320x180",
            "seed=3",
            "contact_sheet=false",
            "mars.enabled=false",
        ],
    )
    synthesize(world, root / "world", progress=False)
    config = load_config(TrackConfig, "synth", ["save_crops=true", "progress=false"], stage="track")
    run_track(root / "world" / "videos", root / "track", config)
    return root / "world", root / "track"


def test_sstt_with_gt_reports_duplication_against_p(tracked, tmp_path):
    world, store = tracked
    out = tmp_path / "labels"
    assert (
        main(
            [
                "label",
                str(store),
                "--out",
                str(out),
                "method=sstt",
                "sstt.period_s=4",
                "--gt",
                str(world / "gt"),
            ]
        )
        == 0
    )
    labels = pd.read_csv(out / "labels.csv", dtype={"camera": str})
    check_labels(labels, out / "labels.csv")
    index = TrackletStore(store).read_index()
    assert set(labels["camera"]) <= set(index["camera"]) and labels["label"].is_unique
    report = json.loads((out / "label_report.json").read_text())
    assert report["method"] == "sstt" and report["labels"] == len(labels)
    assert [row["period_s"] for row in report["duplication_sweep"]] == [1, 2, 4, 8, 16]
    assert report["duplication_sweep"][2]["labels"] == len(labels)
    assert report["quality"]["ground_truth"] and 0 < report["quality"]["labels"]["purity"] <= 1
    assert (out / "label_report.txt").read_text().startswith("sstt:")
    assert (out / "config.yaml").is_file()


def test_tmc_with_histograms_of_the_crops(tracked, tmp_path):
    world, store = tracked
    out = tmp_path / "labels"
    args = ["label", str(store), "--out", str(out), "--model", "histogram", "--gt", str(world / "gt")]
    # 11 tracklets of a tiny world cluster into one label: the degenerate-label guard only warns here.
    tmc = ["tmc.association.cluster.eps=0.6", "tmc.isolation.eps=0.3", "on_degenerate=warn"]
    assert main([*args, *tmc]) == 0
    labels = pd.read_csv(out / "labels.csv", dtype={"camera": str})
    assert list(labels.columns) == ["camera", "track", "sub_track", "label"]
    sub_tracks = pd.read_csv(out / "sub_tracks.csv", dtype={"camera": str})
    index = TrackletStore(store).read_index()
    assert len(sub_tracks) <= len(index)
    # Every labelled sub-tracklet has frames in sub_tracks.csv.
    keys = sub_tracks[["camera", "track", "sub_track"]].drop_duplicates()
    assert len(labels.merge(keys)) == len(labels)
    report = json.loads((out / "label_report.json").read_text())
    quality = report["quality"]
    assert quality["tracklets_in"]["rsw"] >= 1 and quality["after_isolation"]["tracklets"] >= 1
    assert report["association"]["eps"] > 0


def test_tmc_on_a_simulated_store_with_features(tmp_path):
    mars = write_mars_info(tmp_path / "mars", identities=30, cameras=3, seed=4)
    sim = tmp_path / "sim"
    assert main(["simulate", str(mars), "--out", str(sim), "rfm=2.0", "rsw=1.4"]) == 0
    index = TrackletStore(sim).read_index()
    np.save(tmp_path / "f.npy", identity_features(index, dim=48, noise=0.15, seed=1).astype(np.float32))
    out = tmp_path / "labels"
    args = ["label", str(sim), "--out", str(out), "--features", str(tmp_path / "f.npy")]
    assert main([*args, "tmc.association.cluster.rho=0.04"]) == 0
    quality = json.loads((out / "label_report.json").read_text())["quality"]
    assert quality["tracklets_in"]["rsw"] == pytest.approx(1.4, abs=0.05)
    assert quality["after_isolation"]["rsw"] < 1.02
    assert quality["labels"]["ari"] > 0.9


def test_tmc_needs_features_that_fit(tmp_path, tracked, capsys):
    _, store = tracked
    with pytest.raises(SystemExit, match="needs appearance features"):
        main(["label", str(store), "--out", str(tmp_path / "a")])
    np.save(tmp_path / "f.npy", np.zeros((3, 4), np.float32))
    assert (
        main(["label", str(store), "--out", str(tmp_path / "b"), "--features", str(tmp_path / "f.npy")]) == 2
    )
    assert "f.npy" in capsys.readouterr().err and not (tmp_path / "b" / "labels.csv").exists()
