"""The MARS noisy-tracklet simulator: targets met, every frame used once with its identity, presets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import need
from test_io_mars import make_mars

from reid_from_video.cli import main
from reid_from_video.core.config import load_config
from reid_from_video.core.errors import ConfigError, InputError
from reid_from_video.io.mars import frames_table, load_mars
from reid_from_video.io.store import TrackletStore
from reid_from_video.noise.config import SimulateConfig
from reid_from_video.noise.simulate import measured_rates, simulate

# The TMC paper's Table 1: (rFM, rSW) -> number of noisy tracklets generated from MARS train.
TABLE_1 = {(1.7, 1.2): 2835, (2.5, 1.2): 4023, (2.5, 1.5): 3272}


@pytest.fixture(scope="module")
def mars(shared_data):
    return load_mars(need(shared_data, "mars/info"))


def _source_images(pieces: pd.DataFrame) -> np.ndarray:
    """Every source image (1-based name-list index) the pieces cover, in piece order."""
    n = pieces["n_frames"].to_numpy()
    return (
        np.repeat(pieces["first_image"].to_numpy(), n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    )


def _check_frames_kept(sim, tracks: pd.DataFrame) -> None:
    """Each frame of a real identity's clean tracklet appears exactly once, with that identity as gt."""
    clean = frames_table(tracks[tracks["pid"] > 0])
    images = _source_images(sim.pieces)
    assert len(images) == len(clean) == len(sim.index)
    assert np.array_equal(np.sort(images), np.sort(clean["image"].to_numpy()))
    pid_of = pd.Series(clean["pid"].to_numpy(), index=clean["image"].to_numpy())
    assert np.array_equal(pid_of.reindex(images).to_numpy(), sim.index["gt_id"].to_numpy())
    # Pieces stay inside their source tracklet.
    source = tracks.loc[sim.pieces["source_tracklet"]]
    assert (sim.pieces["first_image"].to_numpy() >= source["start"].to_numpy()).all()
    last = sim.pieces["first_image"] + sim.pieces["n_frames"] - 1
    assert (last.to_numpy() <= source["end"].to_numpy()).all()
    assert (source["pid"].to_numpy() == sim.pieces["pid"].to_numpy()).all()


@pytest.mark.parametrize(("rfm", "rsw"), sorted(TABLE_1))
def test_paper_presets_on_real_mars(mars, rfm, rsw):
    config = load_config(SimulateConfig, f"mars_{rfm}_{rsw}", stage="simulate")
    assert (config.rfm, config.rsw) == (rfm, rsw)
    sim = simulate(mars, config)
    assert abs(sim.rates.tracklets / TABLE_1[(rfm, rsw)] - 1) <= 0.03
    assert abs(sim.rates.rfm - rfm) <= 0.03 and abs(sim.rates.rsw - rsw) <= 0.03
    assert sim.rates.gt_ids == 1955  # identity-camera pairs of MARS train
    assert sum(sim.rates.q_histogram.values()) == sim.rates.tracklets
    _check_frames_kept(sim, mars.train)


@pytest.mark.parametrize(("rfm", "rsw"), [(2.0, 1.35), (1.0, 1.0), (3.2, 1.1), (1.3, 2.0)])
def test_other_targets_on_real_mars(mars, rfm, rsw):
    sim = simulate(mars, SimulateConfig(rfm=rfm, rsw=rsw, seed=3))
    assert abs(sim.rates.rfm - rfm) <= 0.03 and abs(sim.rates.rsw - rsw) <= 0.03
    expected = 1955 * rfm / rsw
    assert abs(sim.rates.tracklets - expected) <= 6  # per-camera rounding only
    _check_frames_kept(sim, mars.train)


def test_clean_targets_reproduce_identity_camera_groups(mars):
    """rFM = rSW = 1: one noisy tracklet per (identity, camera), holding all its clean tracklets."""
    sim = simulate(mars, SimulateConfig(rfm=1.0, rsw=1.0))
    assert sim.rates.q_histogram == {1: 1955} and sim.rates.fm_histogram == {1: 1955}
    per_track = sim.pieces.groupby(["camera", "track"])["pid"].nunique()
    assert (per_track == 1).all()


def test_test_split_ignores_junk_and_distractors(mars):
    sim = simulate(mars, SimulateConfig(rfm=1.7, rsw=1.2, split="test"))
    assert (sim.index["gt_id"] > 0).all()
    _check_frames_kept(sim, mars.test)


def test_same_seed_same_tracklets_other_seed_differs(mars):
    a = simulate(mars, SimulateConfig(seed=7))
    b = simulate(mars, SimulateConfig(seed=7))
    c = simulate(mars, SimulateConfig(seed=8))
    pd.testing.assert_frame_equal(a.pieces, b.pieces)
    assert not a.pieces.equals(c.pieces)


def test_pieces_are_shuffled_inside_tracklets(mars):
    """The pieces of a multi-identity tracklet are not grouped by identity nor in source order."""
    sim = simulate(mars, SimulateConfig(rfm=2.5, rsw=1.5))
    multi = sim.pieces.groupby(["camera", "track"]).filter(lambda g: len(g) >= 3)
    in_order = multi.groupby(["camera", "track"])["first_image"].apply(lambda s: s.is_monotonic_increasing)
    assert 0.05 < in_order.mean() < 0.9


def test_measured_rates_count_identities_per_camera():
    pieces = pd.DataFrame(
        {
            "camera": ["c1", "c1", "c1", "c2"],
            "track": [1, 1, 2, 3],
            "pid": [5, 6, 5, 5],
            "n_frames": [3, 2, 4, 1],
        }
    )
    rates = measured_rates(pieces)
    # Incidences: (1,5) (1,6) (2,5) (3,5) = 4; tracklets 3; identities (c1,5) (c1,6) (c2,5) = 3.
    assert rates.tracklets == 3 and rates.gt_ids == 3
    assert rates.rsw == pytest.approx(4 / 3) and rates.rfm == pytest.approx(4 / 3)
    assert rates.q_histogram == {1: 2, 2: 1}


def test_q_histogram_shapes_the_sizes(mars, tmp_path):
    """A measured histogram's shape is kept (tilted to the target mean): a long tail where it has one."""
    path = tmp_path / "q.json"
    path.write_text(
        json.dumps({"q_histogram": {"1": 460, "2": 104, "3": 39, "4": 9, "5": 3, "6": 3, "8": 1}})
    )
    sim = simulate(mars, SimulateConfig(rfm=1.7, rsw=1.2, q_histogram=str(path)))
    assert abs(sim.rates.rsw - 1.2) <= 0.03
    assert 7 not in sim.rates.q_histogram  # no weight where the histogram has none
    poisson = simulate(mars, SimulateConfig(rfm=1.7, rsw=1.2))
    heavy = sum(v for k, v in sim.rates.q_histogram.items() if k >= 4)
    assert heavy > sum(v for k, v in poisson.rates.q_histogram.items() if k >= 4)


def test_q_histogram_that_cannot_reach_the_target(mars, tmp_path):
    path = tmp_path / "q.json"
    path.write_text(json.dumps({"q_histogram": {"1": 10, "2": 3}}))
    with pytest.raises(InputError, match=r"q\.json.*rsw=2\.5 is outside"):
        simulate(mars, SimulateConfig(rfm=3.0, rsw=2.5, q_histogram=str(path)))


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"rfm": 0.5}, "rfm must be"), ({"rsw": 0.9}, "rsw must be"), ({"split": "val"}, "split must be")],
)
def test_bad_targets(mars, overrides, match):
    with pytest.raises(ConfigError, match=match):
        simulate(mars, SimulateConfig(**overrides))


def test_unreachable_fragmentation_names_the_camera(tmp_path):
    """An identity cannot land in more tracklets than it has frames."""
    ds = load_mars(make_mars(tmp_path / "mars", images=False))
    with pytest.raises(ConfigError, match=r"camera c\d: rfm=50"):
        simulate(ds, SimulateConfig(rfm=50, rsw=1.0))


def test_full_tree_paths_and_store(tmp_path):
    """On a MARS tree with images the index points at them; the output is a readable tracklet store."""
    root = make_mars(tmp_path / "mars")
    out = tmp_path / "sim"
    assert (
        main(["simulate", str(root), "--out", str(out), "rfm=1.5", "rsw=1.2", "max_ids_per_tracklet=2"]) == 0
    )
    index = TrackletStore(out).read_index()
    ds = load_mars(root)
    frames = frames_table(ds.train)
    assert sorted(index["path"]) == sorted(frames["path"])
    name_pid = {p: pid for p, pid in zip(frames["path"], frames["pid"], strict=True)}
    assert all(name_pid[p] == g for p, g in zip(index["path"], index["gt_id"], strict=True))
    report = json.loads((out / "simulate.json").read_text())
    assert report["frames"] == len(index) and report["target"] == {"rfm": 1.5, "rsw": 1.2}
    assert (out / "config.yaml").is_file() and (out / "pieces.csv").is_file()


def test_a_relative_mars_root_gives_paths_the_store_resolves(tmp_path, monkeypatch):
    make_mars(tmp_path / "mars")
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "mars", "--out", "sim", "rfm=1.5", "rsw=1.2", "max_ids_per_tracklet=2"]) == 0
    store = TrackletStore(tmp_path / "sim")
    index = store.read_index()
    assert all(store.resolve(p).is_file() for p in index["path"])


def test_structure_only_has_empty_paths(tmp_path):
    root = make_mars(tmp_path / "mars", images=False, name_lists=False)
    out = tmp_path / "sim"
    assert main(["simulate", str(root / "info"), "--out", str(out)]) == 0
    index = TrackletStore(out).read_index()
    assert (index["path"] == "").all() and len(index) == int(load_mars(root).train["n_frames"].sum())
