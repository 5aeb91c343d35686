"""The tracker's appearance features kept in the tracklet store and reused by ``rfv label`` (issue 18,
part 5): stored in index order, equal to what label computes from the crops, reused without embedding, and
never trusted blindly (another model, a corrupt, short or NaN file, edited index rows)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from test_export import make_checkpoint
from test_io_store import gradient_image
from test_osnet import export_folded, trained_like

from reid_from_video.cli import main
from reid_from_video.core.config import load_config
from reid_from_video.core.errors import InputError
from reid_from_video.export.config import ExportConfig
from reid_from_video.export.pipeline import run_export
from reid_from_video.io.config import CropConfig
from reid_from_video.io.store import TrackletStore
from reid_from_video.io.stored_features import read_stored_features
from reid_from_video.labels import features as label_features
from reid_from_video.labels.config import LabelConfig
from reid_from_video.labels.features import embed_rows, model_embedder
from reid_from_video.labels.run import run_label
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

# The synth preset is set for 640x360; at half the size, areas and heights shrink (as tests/test_track_synth).
HALF_SIZE = ["detector.bg_min_area=40", "detector.bg_join_height=8", "detector.min_height=10"]
# A fixed association radius: a store of a dozen sub-tracklets is too small for the data-dependent eps.
SMALL_TMC = ["tmc.association.cluster.eps=0.6", "tmc.association.cluster.min_samples=2"]


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny network (random weights) exported to ONNX with its card."""
    root = tmp_path_factory.mktemp("model")
    make_checkpoint(root / "model.pt")
    run_export(root / "model.pt", root / "export", ExportConfig(format="onnx", batch=4))
    return root / "export" / "model.onnx"


def _other_file(model: Path, folder: Path) -> Path:
    """Another file of the same name and card (as a retrained model would be): other bytes."""
    other = onnx.load(model)
    other.doc_string = "retrained"
    folder.mkdir()
    onnx.save(other, folder / model.name)
    shutil.copy(model.with_name(model.name + ".json"), folder / (model.name + ".json"))
    return folder / model.name


def _track(world: Path, out: Path, *overrides: str) -> Path:
    config = load_config(
        TrackConfig, "synth", ["progress=false", "save_crops=true", *HALF_SIZE, *overrides], stage="track"
    )
    run_track(world / "videos", out, config)
    return out


@pytest.fixture(scope="module")
def tracked(small_world: Path, onnx_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small world tracked with the tiny model as the appearance embedder, crops saved: the store."""
    embedder = ["embedder.backend=onnx", f"embedder.weights={onnx_model}", "embedder.device=cpu"]
    return _track(small_world, tmp_path_factory.mktemp("track") / "store", *embedder)


def _config(*overrides: str) -> LabelConfig:
    return load_config(LabelConfig, None, ["device=cpu", *SMALL_TMC, *overrides])


def test_stored_features_are_those_label_computes(tracked: Path, onnx_model: Path) -> None:
    store = TrackletStore(tracked)
    index = store.read_index()
    card = json.loads(store.features_card_path("cam1").read_text())
    assert card["identity"]["file"] == "model.onnx" and card["feature_dim"] == 192
    assert card["rows"] == int((index["camera"] == "cam1").sum()) > 50
    embedder = model_embedder(onnx_model, _config())
    stored = read_stored_features(store, index, embedder.identity, embedder.feature_dim)
    fresh = embed_rows(store, index, embedder.embed, 64)
    assert stored.shape == fresh.shape == (len(index), 192) and stored.dtype == np.float32
    # The tracker embedded the box of the decoded frame; label embeds the saved JPEG (quality 95, 4:2:0
    # chroma) of the same box: they differ by JPEG's error only. Measured on this world: max |difference|
    # 0.034 per coordinate, cosine >= 0.991 (mean 0.998) for unit-length 192-d rows.
    np.testing.assert_allclose(stored, fresh, atol=0.06)
    cosine = (stored * fresh).sum(axis=1)
    assert cosine.min() > 0.98 and cosine.mean() > 0.995


def test_label_reuses_them_without_embedding(
    tracked: Path, onnx_model: Path, tmp_path: Path, monkeypatch
) -> None:
    def no_embedding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a crop was embedded")

    monkeypatch.setattr(label_features, "tracklet_features", no_embedding)
    report = run_label(tracked, tmp_path / "labels", _config(), model=onnx_model)
    assert report.features == "stored by rfv track (model.onnx)"
    assert (
        "features: stored by rfv track (model.onnx)" in (tmp_path / "labels" / "label_report.txt").read_text()
    )
    # A renamed copy of the same file is the same model.
    copy = tmp_path / "renamed.onnx"
    shutil.copy(onnx_model, copy)
    shutil.copy(onnx_model.with_name("model.onnx.json"), copy.with_name("renamed.onnx.json"))
    assert run_label(tracked, tmp_path / "again", _config(), model=copy).features.startswith("stored")


def test_label_embeds_with_another_model_and_says_why(
    tracked: Path, onnx_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = _other_file(onnx_model, tmp_path / "other")
    with caplog.at_level(logging.INFO, logger="reid_from_video.labels.features"):
        report = run_label(tracked, tmp_path / "labels", _config(), model=other)
    assert report.features == "embedded (model.onnx)"
    reasons = [r.getMessage() for r in caplog.records if "not reused" in r.getMessage()]
    assert len(reasons) == 1 and "cam1.json: made by model.onnx, not model.onnx (sha256" in reasons[0]
    assert run_label(tracked, tmp_path / "never", _config("reuse_features=never"), model=other).features == (
        "embedded (model.onnx)"
    )


def test_colour_histograms_are_never_stored(small_world: Path, tmp_path: Path) -> None:
    store = _track(small_world, tmp_path / "store")  # the synth preset's histogram embedder
    assert not (store / "features").exists()
    assert (
        run_label(store, tmp_path / "labels", _config(), model="histogram").features == "embedded (histogram)"
    )


def _spoil(store: Path, how: str) -> Path:
    npy = TrackletStore(store).features_path("cam1")
    features = np.load(npy)
    if how == "truncated":
        npy.write_bytes(npy.read_bytes()[:-100])
    elif how == "short":
        np.save(npy, features[:-1])
    elif how == "nan":
        features[3, 5] = np.nan
        np.save(npy, features)
    elif how == "float64":
        np.save(npy, features.astype(np.float64))
    elif how == "pickled":
        np.save(npy, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif how == "not unit":
        np.save(npy, features * 2)
    elif how == "missing":
        npy.unlink()
    return npy


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("truncated", "cannot read as a .npy array"),
        ("short", "shape"),
        ("nan", "NaN"),
        ("float64", "expected a 2-d float32 array"),
        ("pickled", "cannot read as a .npy array"),
        ("not unit", "not of unit length"),
        ("missing", "no stored features"),
    ],
)
def test_a_spoiled_file_falls_back_or_fails_when_reuse_is_required(
    tracked: Path, onnx_model: Path, tmp_path: Path, how: str, message: str, caplog, capsys
) -> None:
    store = tmp_path / "store"
    shutil.copytree(tracked, store)
    npy = _spoil(store, how)
    with caplog.at_level(logging.INFO, logger="reid_from_video.labels.features"):
        report = run_label(store, tmp_path / "labels", _config(), model=onnx_model)
    assert report.features == "embedded (model.onnx)"
    assert any(message in r.getMessage() and str(npy) in r.getMessage() for r in caplog.records)
    args = ["label", str(store), "--out", str(tmp_path / "b"), "--model", str(onnx_model), "device=cpu"]
    assert main([*args, "reuse_features=always"]) == 2
    error = capsys.readouterr().err
    assert f"{npy}: " in error and message in error and not (tmp_path / "b" / "labels.csv").exists()


def test_features_of_other_index_rows_are_refused(tracked: Path, onnx_model: Path, tmp_path: Path) -> None:
    store = TrackletStore(tmp_path / "store")
    shutil.copytree(tracked, store.root)
    index = store.read_index()
    embedder = model_embedder(onnx_model, _config())
    with pytest.raises(InputError, match="cam1.json: stored for other index rows"):
        read_stored_features(store, index.drop(index.index[2]), embedder.identity)
    swapped = index.take([1, 0, *range(2, len(index))])
    with pytest.raises(InputError, match="cam1.json: stored for other index rows"):
        read_stored_features(store, swapped, embedder.identity)


def test_a_store_with_features_reads_as_before(tracked: Path, tmp_path: Path) -> None:
    store = TrackletStore(tracked)
    assert store.complete_cameras() == ["cam1", "cam2"]
    assert len(store.finalize()) == len(store.read_index())
    assert main(["label", str(tracked), "--out", str(tmp_path / "sstt"), "method=sstt"]) == 0
    assert (
        main(["label", str(tracked), "--out", str(tmp_path / "tmc"), "--model", "histogram", *SMALL_TMC]) == 0
    )


def test_camera_writer_keeps_one_feature_per_kept_row(tmp_path: Path) -> None:
    store = TrackletStore(tmp_path / "store")
    image = gradient_image()
    identity = {"kind": "model", "sha256": "x"}
    with store.camera_writer("c", CropConfig(every=2, min_height=20), features=identity) as writer:
        kept = []
        for frame in range(1, 6):
            feature = np.eye(4, dtype=np.float32)[frame % 4]
            kept.append(writer.add(1, frame, 0.0, (0, 0, 20, 40), 1.0, image, feature=feature))
        assert not writer.add(2, 1, 0.0, (0, 0, 20, 10), 1.0, image, feature=np.ones(4))  # too low
        with pytest.raises(ValueError, match="every crop needs one"):
            writer.add(3, 1, 0.0, (0, 0, 20, 40), 1.0, image)
    assert kept == [True, False, True, False, True]
    index = store.finalize()
    features = read_stored_features(store, index, identity)
    np.testing.assert_array_equal(features, np.eye(4, dtype=np.float32)[[1, 3, 1]])
    # Written again without features (another embedder, or none): the old ones go with the old crops.
    with store.camera_writer("c", CropConfig()) as writer:
        writer.add(1, 1, 0.0, (0, 0, 20, 40), 1.0, image)
    assert not store.features_path("c").exists() and not store.features_card_path("c").exists()


def test_the_start_network_embeds_the_crops(
    tracked: Path, onnx_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpoint = onnx_model.parents[1] / "model.pt"  # the file the ONNX model was exported from
    network = [
        "model.backbone=tiny",
        "model.weights=none",
        f"model.init={checkpoint}",
        "model.input_size=[64,32]",
    ]
    with caplog.at_level(logging.INFO, logger="reid_from_video.labels.features"):
        report = run_label(tracked, tmp_path / "labels", _config(*network), model="network")
    assert report.features == "embedded (model.pt)"
    assert any("is not a model file rfv track ran" in r.getMessage() for r in caplog.records)


def test_the_start_network_of_an_onnx_osnet_reuses_the_features_of_that_file(
    small_world: Path, tmp_path: Path
) -> None:
    """Adapting OSNet (``model.init`` = the tracker's ONNX file): the first labels' features are the ones
    rfv track stored, since the network computes what the file computes; another init file embeds."""
    onnx_file = export_folded(trained_like("osnet_x0_25"), tmp_path / "osnet_x0_25.onnx")
    embedder = ["embedder.backend=onnx", f"embedder.weights={onnx_file}", "embedder.device=cpu"]
    store = _track(small_world, tmp_path / "store", *embedder)
    network = [f"model.init={onnx_file}"]
    report = run_label(store, tmp_path / "labels", _config(*network), model="network")
    assert report.features == "stored by rfv track (osnet_x0_25.onnx)"
    (tmp_path / "other").mkdir()
    other = export_folded(trained_like("osnet_x0_25", seed=1), tmp_path / "other" / "osnet_x0_25.onnx")
    report = run_label(store, tmp_path / "labels2", _config(f"model.init={other}"), model="network")
    assert report.features == "embedded (osnet_x0_25.onnx)"


def test_search_loads_its_model_once_and_reuses_the_stored_features(
    tracked: Path, onnx_model: Path, tmp_path: Path, monkeypatch
) -> None:
    """One load serves the tracklets (their stored features) and the query; the query's own tracklet ranks
    first."""
    from reid_from_video.associate.config import SearchConfig
    from reid_from_video.associate.search import run_search
    from reid_from_video.embed.runtime import ReidModel

    loads = []
    load = ReidModel.load.__func__

    def counted(cls, *args, **kwargs):
        loads.append(args[0])
        return load(cls, *args, **kwargs)

    monkeypatch.setattr(ReidModel, "load", classmethod(counted))
    index = TrackletStore(tracked).read_index()
    first = index[(index["camera"] == "cam1") & (index["track"] == index["track"].iloc[0])]
    queries = [tracked / p for p in first["path"].iloc[:3]]
    result = run_search(tracked, queries, tmp_path / "search", SearchConfig(device="cpu"), onnx_model)
    assert loads == [str(onnx_model)]
    assert result.features == "stored by rfv track (model.onnx)"
    ranking = (tmp_path / "search" / "ranking.csv").read_text().splitlines()
    assert ranking[1].split(",")[2:4] == ["cam1", str(first["track"].iloc[0])]
