"""Labels that scale with the data: the clustering's small-set floors and the degenerate-label guard."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from test_labels_tmc import identity_features, write_mars_info

from reid_from_video.cli import main
from reid_from_video.core.errors import DegenerateLabelsError
from reid_from_video.io.store import TrackletStore
from reid_from_video.labels.cluster import cluster, min_eps_pairs, scaled_k
from reid_from_video.labels.config import ClusterConfig, LabelConfig
from reid_from_video.labels.guard import check_degenerate
from reid_from_video.pipeline import stages


def eight_people(noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """60 tracklet features of 8 people (7-8 tracklets each), one clear cluster per person."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(8), [8, 8, 8, 8, 7, 7, 7, 7])
    return rng.normal(size=(8, 64))[ids] + noise * rng.normal(size=(60, 64)), ids


def test_floors_bind_on_small_sets_only():
    tmc = ClusterConfig()  # the paper's k1 30, k2 6, rho 1.6e-3, min_samples 4
    assert scaled_k(tmc, 60) == (12, 6) and scaled_k(tmc, 20) == (4, 4) and scaled_k(tmc, 150) == (30, 6)
    assert min_eps_pairs(tmc, 60) == 180
    # MARS scale (about 10,000 sub-tracklets): rho's share already holds more pairs than the floor.
    n = 10_000
    assert scaled_k(tmc, n) == (30, 6) and min_eps_pairs(tmc, n) < 1.6e-3 * n * (n - 1) / 2
    assert scaled_k(ClusterConfig(scale=False), 60) == (30, 6)
    assert min_eps_pairs(ClusterConfig(scale=False), 60) == 0


def test_scaled_clustering_finds_the_people_of_a_small_set():
    feats, ids = eight_people(noise=0.8, seed=0)
    scaled = cluster(feats, ClusterConfig(device="cpu"))
    assert scaled.n_clusters == 8 and adjusted_rand_score(ids, scaled.labels) > 0.95
    # TMC's settings as they are (eps from 1.6e-3 * 1770 = 3 pairs, k1 half the set): a few clusters, most
    # tracklets left out.
    fixed = cluster(feats, ClusterConfig(device="cpu", scale=False))
    assert fixed.n_clusters <= 2 and fixed.n_noise >= 50


def test_old_rule_gives_one_label_where_the_scaled_one_gives_several():
    feats, ids = eight_people(noise=1.2, seed=2)
    assert cluster(feats, ClusterConfig(device="cpu", scale=False)).n_clusters == 1
    scaled = cluster(feats, ClusterConfig(device="cpu"))
    assert scaled.n_clusters >= 6 and adjusted_rand_score(ids, scaled.labels) > 0.6


def labels_table(labels: list[int]) -> pd.DataFrame:
    n = len(labels)
    return pd.DataFrame({"camera": ["c1"] * n, "track": range(n), "sub_track": 0, "label": labels})


def test_guard_figures_and_keys():
    with pytest.raises(DegenerateLabelsError) as raised:
        check_degenerate(labels_table([0] * 5), 58, 33, LabelConfig())
    message = str(raised.value)
    assert "1 label(s) from 58 sub-tracklets of 33 tracklets, 5 labelled" in message
    assert "largest label holding 100%" in message and "need >= 2 labels, none over 50%" in message
    assert "tmc.association.cluster.eps" in message and "tmc.association.cluster.min_samples" in message
    assert "on_degenerate=warn" in message
    # rfv run names the keys as it sees them.
    under = str(raised.value.under("label."))
    assert "label.tmc.association.cluster.eps" in under and "label.on_degenerate=warn" in under
    # One label swallowing most units: a smaller radius, not more clustering.
    with pytest.raises(DegenerateLabelsError, match="holding 80%.*smaller DBSCAN radius"):
        check_degenerate(labels_table([0] * 8 + [1, 2]), 10, 10, LabelConfig())
    with pytest.raises(DegenerateLabelsError, match="sstt.period_s"):
        check_degenerate(labels_table([0]), 1, 4, LabelConfig(method="sstt"))


def test_guard_passes_usable_labels_and_can_warn(caplog):
    check_degenerate(labels_table([0, 0, 1, 1, 2]), 6, 6, LabelConfig())
    check_degenerate(labels_table([0, 0, 0, 1, 1, 2, 2]), 7, 7, LabelConfig(max_label_share=0.9))
    with caplog.at_level(logging.WARNING):
        check_degenerate(labels_table([0] * 4), 4, 4, LabelConfig(on_degenerate="warn"))
    assert "degenerate labels: tmc: 1 label(s)" in caplog.text and "written anyway" in caplog.text
    with pytest.raises(ValueError, match="on_degenerate"):
        LabelConfig(on_degenerate="ignore")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulated store of 8 people in one camera with clear identity features."""
    root = tmp_path_factory.mktemp("guard")
    mars = write_mars_info(root / "mars", identities=8, cameras=1, seed=0)
    assert main(["simulate", str(mars), "--out", str(root / "sim"), "rfm=2.0", "rsw=1.0"]) == 0
    index = TrackletStore(root / "sim").read_index()
    np.save(root / "f.npy", identity_features(index, dim=48, noise=0.15, seed=1).astype(np.float32))
    return root


def test_rfv_label_stops_on_degenerate_labels(simulated, tmp_path, capsys):
    args = ["label", str(simulated / "sim"), "--features", str(simulated / "f.npy")]
    swallow = "tmc.association.cluster.eps=0.99"  # every tracklet within reach of every other: one label
    assert main([*args, "--out", str(tmp_path / "a"), swallow]) == 2
    error = capsys.readouterr().err
    assert "degenerate labels: tmc: 1 label(s)" in error and "tmc.association.cluster.eps" in error
    assert "Traceback" not in error and not (tmp_path / "a" / "labels.csv").exists()
    assert main([*args, "--out", str(tmp_path / "b"), swallow, "on_degenerate=warn"]) == 0
    assert pd.read_csv(tmp_path / "b" / "labels.csv")["label"].nunique() == 1
    assert main([*args, "--out", str(tmp_path / "c")]) == 0


def test_rfv_run_names_the_label_keys(monkeypatch, tmp_path):
    def degenerate(*args, **kwargs):
        check_degenerate(labels_table([0] * 3), 3, 3, LabelConfig())

    monkeypatch.setattr("reid_from_video.labels.run.run_label", degenerate)
    paths = {"store": tmp_path, "model": None, "gt": None}
    with pytest.raises(DegenerateLabelsError, match=r"label\.tmc\.association\.cluster\.eps"):
        stages._label(paths, tmp_path / "label", LabelConfig())
