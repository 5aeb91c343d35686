"""ONNX graphs run by torch (onnx2torch) where onnxruntime has no CUDA provider: the same outputs as
onnxruntime, the batch freed as there, and the choice made by open_onnx. The CPU stands in for the GPU:
the code path is the same but for the torch device."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import need
from test_track_pipeline import _batch_mixing, _embedder_like

from reid_from_video.core import onnx_session, onnx_torch
from reid_from_video.core.onnx_session import open_onnx
from reid_from_video.core.onnx_torch import on_torch

pytest.importorskip("onnx2torch")


def test_a_graph_on_torch_gives_onnxruntimes_outputs_with_its_batch_freed(tmp_path: Path) -> None:
    path = _embedder_like(tmp_path / "embedder.onnx")
    onnxruntime = open_onnx(path, device="cpu")
    torch_model = on_torch(open_onnx(path, device="cpu", free_batch=False), "cpu")
    assert torch_model.on_torch is not None and torch_model.batch is None and torch_model.batch_freed
    crops = np.random.default_rng(5).random((6, 3, 8, 4), dtype=np.float32)
    np.testing.assert_allclose(torch_model.run(crops), onnxruntime.run(crops), rtol=1e-5, atol=1e-5)
    pinned = on_torch(open_onnx(path, device="cpu", free_batch=False), "cpu", free_batch=False)
    assert pinned.batch == 1 and not pinned.batch_freed


def test_a_graph_that_mixes_the_batch_keeps_its_batch_of_one_on_torch(tmp_path: Path) -> None:
    path = _batch_mixing(tmp_path / "mixing.onnx")
    model = on_torch(open_onnx(path, device="cpu", free_batch=False), "cpu")
    assert model.batch == 1 and not model.batch_freed
    np.testing.assert_allclose(model.run(np.arange(5, dtype=np.float32)[None]), np.zeros((1, 5)))


def test_open_onnx_runs_on_torch_when_onnxruntime_has_no_cuda_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = _embedder_like(tmp_path / "embedder.onnx")
    crops = np.random.default_rng(6).random((4, 3, 8, 4), dtype=np.float32)
    expected = open_onnx(path, device="cpu").run(crops)
    monkeypatch.setattr(onnx_session, "torch_gpu", lambda device: "cpu")  # "torch sees a GPU"
    model = open_onnx(path, device="cuda")
    assert model.on_torch is not None and model.batch_freed
    np.testing.assert_allclose(model.run(crops), expected, rtol=1e-5, atol=1e-5)

    def cannot_convert(*args, **kwargs):
        raise NotImplementedError("Converter is not implemented (OperatorDescription(op_type='Foo'))")

    monkeypatch.setattr(onnx_torch, "on_torch", cannot_convert)
    with caplog.at_level(logging.WARNING):
        fallback = open_onnx(path, device="cuda")
    assert fallback.on_torch is None and fallback.device == "cpu" and "through torch" in caplog.text
    np.testing.assert_allclose(fallback.run(crops), expected, rtol=1e-6, atol=1e-6)
    monkeypatch.setattr(onnx_session, "torch_gpu", lambda device: None)  # no GPU, or no onnx2torch
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert open_onnx(path, device="cuda").on_torch is None
    assert "running on CPU" in caplog.text
    assert open_onnx(path, device="auto").on_torch is None  # auto on a CPU machine: no warning needed


def test_the_published_models_on_torch_match_onnxruntime(shared_data: Path, monkeypatch) -> None:
    """OSNet's features through ReidModel and YOLOX-nano's detections through its detector, each asked for
    on cuda, against the same files on onnxruntime."""
    from reid_from_video.core.config import load_config
    from reid_from_video.detect.yolox import YoloxOnnxDetector
    from reid_from_video.embed.runtime import ReidModel
    from reid_from_video.tracking.config import TrackConfig

    osnet = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    yolox = need(shared_data, "models/yolox_nano.onnx")
    frame = cv2.imread(str(sorted(need(shared_data, "mot17/mini/MOT17-04-FRCNN/img1").glob("*.jpg"))[0]))
    crops = [frame[400 + 20 * k : 600 + 20 * k, 900 + 40 * k : 980 + 40 * k] for k in range(5)]

    def detector_on(device: str) -> YoloxOnnxDetector:
        overrides = [f"detector.weights={yolox}", f"detector.device={device}", "detector.score_min=0.15"]
        return YoloxOnnxDetector(load_config(TrackConfig, "pets09", overrides, stage="track").detector)

    features, (ref_boxes, ref_scores) = (
        ReidModel.load(osnet, "cpu").embed(crops),
        detector_on("cpu").detect([frame], [1])[0],
    )
    monkeypatch.setattr(onnx_session, "torch_gpu", lambda device: "cpu")
    model, detector = ReidModel.load(osnet, "cuda"), detector_on("cuda")
    assert model._fixed_batch is None and detector.model.on_torch is not None
    np.testing.assert_allclose(model.embed(crops), features, atol=1e-4)
    boxes, scores = detector.detect([frame], [1])[0]
    assert len(ref_boxes) > 10 and boxes.shape == ref_boxes.shape
    np.testing.assert_allclose(boxes, ref_boxes, atol=0.05)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-4)
