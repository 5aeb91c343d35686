"""The benchmarks' peer adapters (``benchmarks/ultralytics_peer.py``): what ultralytics is fed must be the
same network on the same pixels, or the side-by-side figures compare different models."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from conftest import need

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from ultralytics_peer import IMAGENET_MEAN, IMAGENET_STD, Dets, mot_rows, osnet_for_ultralytics  # noqa: E402


def test_osnet_for_ultralytics_is_the_file_on_imagenet_normalised_pixels_any_batch(shared_data, tmp_path):
    osnet = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    wrapped = osnet_for_ultralytics(osnet, tmp_path / "osnet.onnx")
    original, peer = ort.InferenceSession(str(osnet)), ort.InferenceSession(str(wrapped))
    pixels = np.random.default_rng(0).random((3, 3, 256, 128), dtype=np.float32)  # 0..1 RGB, as ultralytics
    mean = np.array(IMAGENET_MEAN, np.float32).reshape(1, 3, 1, 1)
    std = np.array(IMAGENET_STD, np.float32).reshape(1, 3, 1, 1)
    one_by_one = [original.run(None, {"images": (pixels[i : i + 1] - mean) / std})[0] for i in range(3)]
    np.testing.assert_allclose(peer.run(None, {"images": pixels})[0], np.concatenate(one_by_one), atol=1e-5)


def test_dets_gives_corners_and_keeps_rows_together():
    dets = Dets(np.array([[10.0, 20.0, 4.0, 8.0], [0.0, 0.0, 2.0, 2.0]]), np.array([0.9, 0.5]))
    np.testing.assert_array_equal(dets.xyxy, [[8, 16, 12, 24], [-1, -1, 1, 1]])
    kept = dets[np.array([False, True])]
    assert len(kept) == 1 and kept.conf.tolist() == [0.5] and kept.xywh.tolist() == [[0, 0, 2, 2]]


def test_dets_from_tlwh_and_mot_rows_are_each_others_boxes():
    tlwh = np.array([[8.0, 16.0, 4.0, 8.0]])
    dets = Dets.from_tlwh(tlwh, np.array([0.7]))
    np.testing.assert_array_equal(dets.xywh, [[10, 20, 4, 8]])
    tracks = np.hstack([dets.xyxy, [[7, 0.7, 0, 0]]])  # ultralytics' output: x1, y1, x2, y2, id, score, ...
    assert mot_rows(3, tracks) == [[3, 7, 8, 16, 4, 8, 1, -1, -1]]


def test_the_crowd_clip_plays_the_mot17_frames_forward_and_back(shared_data, tmp_path):
    """bench_pipeline_crowd's clip: every step a real frame-to-frame motion, the frames in that order."""
    import cv2
    from bench_pipeline_crowd import FRAMES, back_and_forth, crowd_clip

    order = back_and_forth(8, 20)
    assert order == [0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5]
    need(shared_data, FRAMES)
    clip = crowd_clip(shared_data, tmp_path, 20)
    sources = [cv2.imread(str(p)).astype(np.float32) for p in sorted((shared_data / FRAMES).glob("*.jpg"))]
    capture = cv2.VideoCapture(str(clip))
    decoded = [capture.read()[1] for _ in range(20)]
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 20 and decoded[-1].shape == (1080, 1920, 3)
    for k in (0, 7, 9, 14, 19):  # each decoded frame is nearest to its source frame (lossy codec)
        errors = [np.abs(decoded[k].astype(np.float32) - source).mean() for source in sources]
        assert int(np.argmin(errors)) == order[k]


def test_the_cameras_benchmark_links_one_clip_as_many_cameras(tmp_path):
    """bench_cameras' folder: N cameras that rfv track finds as N, each the clip, made afresh each time."""
    import cv2
    from bench_cameras import camera_folder

    from reid_from_video.io.video import discover_cameras

    clip = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
    for k in range(7):
        writer.write(np.full((48, 64, 3), 30 * k, np.uint8))
    writer.release()
    camera_folder(clip, tmp_path / "cameras", 5)
    cameras = discover_cameras(camera_folder(clip, tmp_path / "cameras", 3))
    assert [c.name for c in cameras] == ["cam01", "cam02", "cam03"]
    assert [c.frame_count for c in cameras] == [7, 7, 7]
