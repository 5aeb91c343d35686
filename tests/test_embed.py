"""Embedders: unit-length features, precomputed lookup, the OSNet ONNX model."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import need

from reid_from_video.core.errors import InputError
from reid_from_video.embed import EMBEDDERS, EmbedderConfig, build_embedder


def _person_image() -> tuple[np.ndarray, np.ndarray]:
    image = np.full((200, 300, 3), 60, np.uint8)
    cv2.rectangle(image, (20, 20), (60, 120), (0, 0, 255), -1)  # red
    cv2.rectangle(image, (100, 20), (140, 120), (255, 0, 0), -1)  # blue
    cv2.rectangle(image, (200, 20), (240, 120), (0, 0, 250), -1)  # red again
    boxes = np.array([[20, 20, 40, 100], [100, 20, 40, 100], [200, 20, 40, 100]], float)
    return image, boxes


def test_registry_and_none():
    assert sorted(EMBEDDERS) == ["histogram", "onnx", "precomputed", "torch"]
    assert build_embedder(EmbedderConfig(backend="none"), Path("."), "c") is None


def test_histogram_features_separate_colours():
    image, boxes = _person_image()
    features = build_embedder(EmbedderConfig(backend="histogram"), Path("."), "c").embed(image, boxes, 1)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0)
    assert features[0] @ features[2] > 0.9 > features[0] @ features[1]


def test_precomputed_features_by_box(tmp_path: Path):
    rows = np.array(
        [
            [1, -1, 10, 10, 40, 100, 1, 3.0, 4.0],
            [1, -1, 90, 10, 40, 100, 1, 0.0, 2.0],
            [2, -1, 12, 10, 40, 100, 1, 1.0, 0.0],
        ]
    )
    np.save(tmp_path / "cam.npy", rows)
    config = EmbedderConfig(backend="precomputed", source=str(tmp_path / "{name}.npy"))
    embedder = build_embedder(config, tmp_path, "cam")
    features = embedder.embed(None, rows[[1, 0], 2:6], 1)
    np.testing.assert_allclose(features, [[0, 1], [0.6, 0.8]])
    with pytest.raises(InputError, match="has no stored feature"):
        embedder.embed(None, np.array([[500.0, 10, 40, 100]]), 1)


def test_osnet_onnx_embedder(shared_data: Path):
    model = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    image, boxes = _person_image()
    embedder = build_embedder(EmbedderConfig(backend="onnx", weights=str(model)), Path("."), "c")
    features = embedder.embed(image, boxes, 1)
    assert features.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-6)
    assert features[0] @ features[2] > features[0] @ features[1]
