"""Detectors: the shared filters, precomputed files, YOLOX decoding, background subtraction."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import need

from reid_from_video.core.errors import InputError
from reid_from_video.detect import DETECTORS, DetectorConfig, build_detector
from reid_from_video.detect.base import Detections, filter_detections
from reid_from_video.detect.family import onnx_family, with_onnx_backend
from reid_from_video.detect.yolox import grid_decode, letterbox
from reid_from_video.io.mot import read_mot
from reid_from_video.noise.boxes import iou_xywh


def test_registry_lists_every_backend():
    assert sorted(DETECTORS) == ["bgsub", "precomputed", "yolo", "yolox"]


def test_filters_score_size_aspect_and_nms():
    boxes = np.array(
        [
            [0, 0, 40, 100],  # kept
            [2, 0, 40, 100],  # overlaps the first, lower score: suppressed
            [200, 0, 40, 100],  # score too low
            [300, 0, 10, 20],  # too small
            [400, 0, 100, 50],  # too wide for a person
        ],
        float,
    )
    scores = np.array([0.9, 0.8, 0.1, 0.9, 0.9])
    config = DetectorConfig(score_min=0.3, min_height=30, aspect=(0.1, 1.0), nms_iou=0.5)
    kept = filter_detections(Detections(boxes, scores), config)
    np.testing.assert_array_equal(kept.boxes, boxes[:1])
    np.testing.assert_array_equal(kept.scores, [0.9])


def test_precomputed_detections_by_frame(tmp_path: Path):
    det = tmp_path / "det.txt"
    det.write_text("2,-1,10,10,40,100,0.9\n1,-1,5,5,40,100,0.2\n2,-1,300,10,40,100,0.95\n")
    config = DetectorConfig(backend="precomputed", source=str(det), score_min=0.5)
    detector = build_detector(config, tmp_path, "cam")
    assert not detector.needs_pixels
    first, second, missing = detector.detect([None, None, None], [1, 2, 9])
    assert len(first.boxes) == 0 and len(missing.boxes) == 0
    np.testing.assert_array_equal(second.scores, [0.9, 0.95])
    with pytest.raises(InputError, match="detection file not found"):
        build_detector(DetectorConfig(backend="precomputed"), tmp_path / "nowhere", "x")


def test_letterbox_and_grid_decoding():
    image = np.zeros((100, 200, 3), np.uint8)
    boxed, ratio = letterbox(image, (64, 64))
    assert ratio == pytest.approx(0.32) and boxed.shape == (64, 64, 3)
    assert boxed[40, 10, 0] == 114 and boxed[10, 10, 0] == 0  # padding below the resized image
    raw = np.zeros((8 * 8 + 4 * 4 + 2 * 2, 6), np.float32)
    raw[9] = [0.5, 0.5, 0, 0, 1, 1]  # stride 8, grid cell (x=1, y=1): centre (12, 12), size 8
    decoded = grid_decode(raw, (64, 64))
    np.testing.assert_allclose(decoded[9, :4], [12, 12, 8, 8])
    np.testing.assert_allclose(decoded[64, :4], [0, 0, 16, 16])  # first cell of stride 16, no offset


def test_background_subtraction_finds_a_moving_person_shape():
    config = DetectorConfig(backend="bgsub", score_min=0.3, nms_iou=None, bg_min_area=100)
    detector = build_detector(config, Path("."), "cam")
    found = []
    for k in range(40):
        frame = np.full((240, 320, 3), 90, np.uint8)
        x = 20 + 5 * k
        cv2.rectangle(frame, (x, 80), (x + 30, 170), (20, 200, 240), -1)
        found.append(detector.detect([frame], [k + 1])[0])
    last = found[-1]
    assert len(last.boxes) == 1
    assert iou_xywh(last.boxes, np.array([[20 + 5 * 39, 80, 31, 91]]))[0, 0] > 0.7


def test_yolox_onnx_finds_mot17_pedestrians(shared_data: Path):
    model = need(shared_data, "models/yolox_nano.onnx")
    sequence = need(shared_data, "mot17/mini/MOT17-02-FRCNN")
    frame_file = sorted((sequence / "img1").glob("*.jpg"))[0]
    image = cv2.imread(str(frame_file))
    detector = build_detector(DetectorConfig(backend="yolox", weights=str(model)), sequence, "s")
    (dets,) = detector.detect([image], [int(frame_file.stem)])
    gt = read_mot(sequence / "gt" / "gt.txt")
    gt = gt[(gt.frame == int(frame_file.stem)) & (gt.cls == 1) & (gt.vis > 0.5)]
    matched = (iou_xywh(gt[["x", "y", "w", "h"]].to_numpy(), dets.boxes).max(axis=1) >= 0.5).mean()
    assert len(dets.boxes) >= 5 and matched > 0.3  # nano at 416 px on 1080p: the large, visible people


def test_missing_onnx_model_is_a_clear_error(tmp_path: Path):
    with pytest.raises(InputError, match="YOLOX ONNX model not found"):
        build_detector(DetectorConfig(backend="yolox", weights=str(tmp_path / "no.onnx")), tmp_path, "x")


def test_ultralytics_backend_with_a_local_weights_file(tmp_path: Path):
    """The YOLO backend end to end on a weights file written here (an untrained yolov8n: no download)."""
    ultralytics = pytest.importorskip("ultralytics")
    weights = tmp_path / "yolov8n_untrained.pt"
    ultralytics.YOLO("yolov8n.yaml").save(str(weights))
    config = DetectorConfig(backend="yolo", weights=str(weights), batch=2, input_size=320, device="cpu")
    detector = build_detector(config, tmp_path, "cam")
    frames = [np.full((180, 320, 3), v, np.uint8) for v in (0, 90, 180)]
    detections = detector.detect(frames, [1, 2, 3])
    assert len(detections) == 3
    for found in detections:
        assert found.boxes.shape == (len(found.scores), 4)
        assert (found.scores >= config.score_min).all()
    with pytest.raises(InputError, match="ultralytics weights file not found"):
        build_detector(DetectorConfig(backend="yolo", weights=str(tmp_path / "no" / "x.pt")), tmp_path, "c")


def _head_only_onnx(path: Path, shape: list[int], metadata: dict[str, str] | None = None) -> Path:
    """An ONNX file whose one output has ``shape`` (an Identity of its input), with ``metadata``."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["images"], ["output"])],
        "head",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
    )
    model = helper.make_model(graph)
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def test_a_yolox_onnx_given_to_the_default_backend_runs_as_yolox(tmp_path: Path, capsys):
    """``detector.weights=yolox_nano.onnx`` alone is enough; ultralytics' own ONNX exports stay with it."""
    yolox = _head_only_onnx(tmp_path / "yolox_nano.onnx", [1, 3549, 85])
    ultra = _head_only_onnx(tmp_path / "yolo11n.onnx", [1, 84, 8400], {"author": "Ultralytics"})
    other = _head_only_onnx(tmp_path / "other.onnx", [1, 10])
    assert [onnx_family(p) for p in (yolox, ultra, other)] == ["yolox", "ultralytics", None]
    assert onnx_family(tmp_path / "missing.onnx") is None
    switched = with_onnx_backend(DetectorConfig(weights=str(yolox)), announce=True)
    assert switched.backend == "yolox" and "YOLOX ONNX model" in capsys.readouterr().out
    for kept in (ultra, other):
        assert with_onnx_backend(DetectorConfig(weights=str(kept))).backend == "yolo"
    explicit = DetectorConfig(backend="bgsub", weights=str(yolox))
    assert with_onnx_backend(explicit) is explicit


def test_the_real_yolox_file_needs_no_backend_key(shared_data: Path):
    model = need(shared_data, "models/yolox_nano.onnx")
    sequence = need(shared_data, "mot17/mini/MOT17-02-FRCNN")
    detector = build_detector(DetectorConfig(weights=str(model)), sequence, "s")
    assert type(detector).__name__ == "YoloxOnnxDetector"
