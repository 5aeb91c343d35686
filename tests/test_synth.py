"""`rfv synth`: a tiny synthetic world whose ground truth is checked against its own pixels."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from reid_from_video.cli import main
from reid_from_video.core.config import load_config
from reid_from_video.io.mars import load_mars, parse_mars_name
from reid_from_video.io.mot import find_sequences, read_mot, read_seqinfo
from reid_from_video.io.video import discover_cameras
from reid_from_video.noise.boxes import iou_xywh
from reid_from_video.synth.config import MarsExportConfig, SynthConfig
from reid_from_video.synth.mars_export import export_mars
from reid_from_video.synth.pipeline import synthesize
from reid_from_video.synth.render import CameraRenderer
from reid_from_video.synth.world import plan_world

TINY = dict(cameras=2, identities=8, seconds=20.0, fps=5, size="320x180", seed=3)


def tiny(**changes) -> SynthConfig:
    return load_config(SynthConfig, None, [f"{k}={v}" for k, v in {**TINY, **changes}.items()])


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    synthesize(tiny(), out, progress=False)
    return out


def gt_of(world_dir: Path) -> pd.DataFrame:
    tables = [
        read_mot(world_dir / "gt" / name / "gt" / "gt.txt").assign(camera=name) for name in ("cam1", "cam2")
    ]
    return pd.concat(tables, ignore_index=True)


def test_outputs_are_cameras_and_mot_sequences(world_dir: Path):
    cameras = discover_cameras(world_dir / "videos")
    assert [c.name for c in cameras] == ["cam1", "cam2"]
    for camera in cameras:
        assert (camera.fps, camera.frame_count, camera.width, camera.height) == (5, 100, 320, 180)
        assert camera.start_time == 0.0  # the shared clock, from the sidecar
    assert list(find_sequences(world_dir / "gt")) == ["cam1", "cam2"]
    info = read_seqinfo(world_dir / "gt" / "cam1")
    assert (info.frame_rate, info.seq_length, info.im_width, info.im_height) == (5, 100, 320, 180)
    world = json.loads((world_dir / "world.json").read_text())
    assert {"cameras", "identities", "topology", "schedule", "seed", "split"} <= set(world)
    assert len(world["identities"]) == 8 and world["seed"] == TINY["seed"]


def test_gt_boxes_and_visibility_come_from_the_drawn_pixels(world_dir: Path):
    """Each person's pixels lie inside its gt box; visibility is the share of its silhouette still seen."""
    gt = gt_of(world_dir)
    world = plan_world(tiny())
    checked = occluded = 0
    for camera in (1, 2):
        renderer = CameraRenderer(world, camera, shadows=False, photometric=False)
        frames = gt[gt["camera"] == f"cam{camera}"]
        for frame in range(1, 101, 3):
            rendered = renderer.render(frame)
            labels = rendered.label_image()
            rows = frames[frames["frame"] == frame].set_index("id")
            assert sorted(rows.index) == sorted(rendered.ids[rendered.in_frame].tolist())
            # Without shadows, the only pixels that differ from the empty scene are people's.
            changed = np.abs(rendered.clean.astype(int) - renderer.background.astype(int)).max(axis=2) > 2
            inside_any = np.zeros_like(changed)
            for ident, row in rows.iterrows():
                x, y, w, h = (int(row[c]) for c in ("x", "y", "w", "h"))
                ys, xs = np.nonzero(labels == ident)
                if xs.size:
                    assert xs.min() >= x and xs.max() < x + w and ys.min() >= y and ys.max() < y + h
                k = int(np.flatnonzero(rendered.ids == ident)[0])
                assert row["vis"] == pytest.approx(xs.size / rendered.silhouette[k], abs=1e-4)
                # A box holds the pixels at least half covered; anti-aliased edges reach 2 px further.
                inside_any[max(y - 2, 0) : y + h + 2, max(x - 2, 0) : x + w + 2] = True
                checked += 1
                occluded += row["vis"] < 0.99
            # (A person just outside the frame may tint the outermost pixels with its anti-aliased edge.)
            assert not (changed & ~inside_any)[2:-2, 2:-2].any()
    assert checked > 50 and occluded > 0


def test_same_seed_gives_identical_files(world_dir: Path, tmp_path: Path):
    synthesize(
        tiny(contact_sheet=False, workers=1, **{"mars.enabled": False}), tmp_path / "a", progress=False
    )
    for name in ("gt/cam1/gt/gt.txt", "gt/cam2/gt/gt.txt", "world.json"):
        assert (tmp_path / "a" / name).read_bytes() == (world_dir / name).read_bytes(), name
    synthesize(tiny(seed=4, contact_sheet=False, **{"mars.enabled": False}), tmp_path / "b", progress=False)
    assert (tmp_path / "b" / "world.json").read_bytes() != (world_dir / "world.json").read_bytes()


def test_people_seed_keeps_the_cameras_and_changes_the_people():
    base = plan_world(tiny())
    assert plan_world(tiny(people_seed=base.config.seed)).to_dict() == base.to_dict() | {
        "people_seed": base.config.seed
    }
    other = plan_world(tiny(people_seed=7))
    assert [c.to_dict() for c in other.cameras] == [c.to_dict() for c in base.cameras]
    assert other.edges == base.edges
    assert [look.to_dict() for look in other.looks] != [look.to_dict() for look in base.looks]
    assert other.to_dict()["people_seed"] == 7 and "people_seed" not in base.to_dict()


def test_people_cross_and_occlude_each_other(world_dir: Path):
    gt = gt_of(world_dir)
    crossings = 0
    for _, rows in gt.groupby(["camera", "frame"]):
        boxes = rows[["x", "y", "w", "h"]].to_numpy()
        crossings += int(np.triu(iou_xywh(boxes, boxes) > 0.3, k=1).sum())  # each pair once
    assert crossings > 0


def test_identities_recur_across_cameras_and_within_a_camera(world_dir: Path):
    gt = gt_of(world_dir)
    cameras_per_id = gt.groupby("id")["camera"].nunique()
    assert (cameras_per_id >= 2).any()
    returns = 0
    for _, rows in gt.groupby(["camera", "id"]):
        frames = np.sort(rows["frame"].to_numpy())
        returns += int((np.diff(frames) > 5).any())  # out of view for more than a second, then back
    assert returns > 0
    # The schedule follows the topology: a move to another camera takes at least the edge's transit time.
    world = json.loads((world_dir / "world.json").read_text())
    transit = {frozenset((e["a"], e["b"])): e["transit_s"] for e in world["topology"]}
    visits = sorted(world["schedule"], key=lambda v: (v["identity"], v["journey"], v["t_in"]))
    moves = 0
    for a, b in itertools.pairwise(visits):
        if (a["identity"], a["journey"]) == (b["identity"], b["journey"]) and a["camera"] != b["camera"]:
            assert b["t_in"] - a["t_out"] >= 0.85 * transit[frozenset((a["camera"], b["camera"]))] - 1e-3
            moves += 1
    assert moves > 0


def test_mars_export_loads_with_io_mars(world_dir: Path, tmp_path: Path):
    mars = load_mars(world_dir / "mars")
    assert mars.has_images and len(mars.train) and len(mars.test) and len(mars.query)
    world = json.loads((world_dir / "world.json").read_text())
    assert set(mars.train["pid"]) <= set(world["split"]["train"])
    assert set(mars.test["pid"]) <= set(world["split"]["test"])
    assert not set(world["split"]["train"]) & set(world["split"]["test"])
    queries = mars.test.iloc[mars.query]
    assert not queries.duplicated(["pid", "camera"]).any()  # one query per (identity, camera)
    for q in queries.itertuples():  # each has a gallery match in another camera
        assert ((mars.test["pid"] == q.pid) & (mars.test["camera"] != q.camera)).any()
    first = mars.train["paths"].iloc[0][0]
    assert parse_mars_name(first)[0] == mars.train["pid"].iloc[0]
    assert cv2.imread(first).shape == (256, 128, 3)
    # The export is also callable on its own, with its own settings.
    again = export_mars(
        world_dir, tmp_path / "m", MarsExportConfig(min_frames=2, crop_height=64, crop_width=32)
    )
    assert again.train_tracklets >= len(mars.train)
    assert len(load_mars(tmp_path / "m").test) == again.test_tracklets


def test_cli_writes_a_world_and_its_contact_sheet(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    args = ["synth", "--out", str(tmp_path), "cameras=1", "identities=4", "seconds=4", "size=160x96", "fps=5"]
    assert main([*args, "mars.enabled=false"]) == 0
    assert "gt boxes" in capsys.readouterr().out
    sheet = cv2.imread(str(tmp_path / "contact_sheet.jpg"))
    assert sheet is not None and sheet.shape[0] > 50
    assert (tmp_path / "world.json").is_file() and (tmp_path / "config.yaml").is_file()


@pytest.mark.parametrize(
    ("override", "message"),
    [("size=640by360", "WIDTHxHEIGHT"), ("cameras=7", "mars.enabled=false"), ("codec=H264", "mp4v or MJPG")],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, capsys, override: str, message: str):
    assert main(["synth", "--out", str(tmp_path), override]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not (tmp_path / "world.json").exists()
