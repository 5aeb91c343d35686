"""The overlapped per-camera pipeline (issue 21): the background stages, ONNX files with a pinned batch of 1
run batched, and pipelined tracking that writes exactly what one-stage-after-the-other tracking writes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import need

from reid_from_video.core.background import in_background
from reid_from_video.core.config import load_config
from reid_from_video.core.errors import ConfigError
from reid_from_video.core.onnx_session import open_onnx
from reid_from_video.core.runtime_options import OnnxRuntime
from reid_from_video.io.store import TrackletStore
from reid_from_video.tracking import camera as camera_module
from reid_from_video.tracking.config import TrackConfig
from reid_from_video.tracking.run import run_track

# The synth preset is set for 640x360; the small world is half that size.
HALF_SIZE = ["detector.bg_min_area=40", "detector.bg_join_height=8", "detector.min_height=10"]


# --- in_background ---------------------------------------------------------------------------------------


def test_background_stage_keeps_order_and_chains() -> None:
    doubled = in_background((2 * k for k in in_background(range(500), depth=3)), depth=2)
    assert list(doubled) == [2 * k for k in range(500)]


def test_background_stage_raises_at_the_failing_item_and_stops_its_thread() -> None:
    def items():
        yield from range(5)
        raise ValueError("frame 5 is broken")

    before = threading.active_count()
    seen = []
    with pytest.raises(ValueError, match="frame 5 is broken"):
        for item in in_background(items(), depth=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
    assert threading.active_count() == before


def test_background_stage_stopped_early_closes_its_source() -> None:
    closed = threading.Event()

    def endless():
        try:
            k = 0
            while True:
                yield k
                k += 1
        finally:
            closed.set()

    before = threading.active_count()
    stream = in_background(endless(), depth=4)
    assert [next(stream) for _ in range(10)] == list(range(10))
    stream.close()  # what a consumer's break or error does
    assert closed.is_set()
    assert threading.active_count() == before


# --- ONNX files with a pinned batch of 1 -----------------------------------------------------------------


def _save(graph, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def _embedder_like(path: Path) -> Path:
    """Conv -> Relu -> Reshape to the pinned [1, -1] -> MatMul, input [1, 3, 8, 4], output [1, 6]: the shape
    of the published OSNet / YOLOX files' batch pinning."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    weights = [
        numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "conv_w"),
        numpy_helper.from_array(np.array([1, -1], np.int64), "flat"),
        numpy_helper.from_array(rng.normal(size=(4 * 8 * 4, 6)).astype(np.float32), "fc_w"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv_w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Reshape", ["r", "flat"], ["f"]),
        helper.make_node("MatMul", ["f", "fc_w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "embedder_like",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])],
        weights,
    )
    return _save(graph, path)


def _batch_mixing(path: Path) -> Path:
    """x - mean over the batch axis: zero for any single item, not for a batch; freeing its batch would
    change what it computes, so the probe must refuse."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[0], keepdims=1),
        helper.make_node("Sub", ["x", "m"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "batch_mixing",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
    )
    return _save(graph, path)


def test_a_pinned_batch_of_one_is_freed_and_gives_the_single_item_outputs(tmp_path: Path) -> None:
    path = _embedder_like(tmp_path / "embedder.onnx")
    pinned = open_onnx(path, device="cpu", free_batch=False)
    assert pinned.batch == 1 and not pinned.batch_freed
    freed = open_onnx(path, device="cpu")
    assert freed.batch is None and freed.batch_freed
    crops = np.random.default_rng(2).random((7, 3, 8, 4), dtype=np.float32)
    together = freed.run(crops)
    apart = np.concatenate([pinned.run(crops[k : k + 1]) for k in range(7)])
    assert together.shape == (7, 6)
    np.testing.assert_allclose(together, apart, rtol=1e-5, atol=1e-5)


def test_a_graph_that_mixes_the_batch_keeps_its_batch_of_one(tmp_path: Path) -> None:
    model = open_onnx(_batch_mixing(tmp_path / "mixing.onnx"), device="cpu")
    assert model.batch == 1 and not model.batch_freed
    item = np.arange(5, dtype=np.float32)[None]
    np.testing.assert_allclose(model.run(item), np.zeros((1, 5)))


def test_the_published_osnet_file_is_freed_and_matches_one_crop_per_call(shared_data: Path) -> None:
    path = need(shared_data, "models/osnet_x0_25_msmt17.onnx")
    pinned = open_onnx(path, device="cpu", free_batch=False)
    freed = open_onnx(path, device="cpu")
    assert pinned.batch == 1 and freed.batch is None and freed.batch_freed
    crops = np.random.default_rng(3).random((5, *pinned.input_shape[1:]), dtype=np.float32)
    apart = np.concatenate([pinned.run(crops[k : k + 1]) for k in range(5)])
    np.testing.assert_allclose(freed.run(crops), apart, rtol=1e-4, atol=1e-4 * np.abs(apart).max())


# --- pipelined tracking ----------------------------------------------------------------------------------


def _outputs(out: Path, camera: str) -> tuple[str, list, list[bytes]]:
    """The camera's MOT file, its index rows and its crops' bytes."""
    index = TrackletStore(out).read_index()
    index = index[index["camera"] == camera]
    crops = [(out / path).read_bytes() for path in index["path"]]
    return (out / "mot" / f"{camera}.txt").read_text(), index.to_dict("records"), crops


def test_pipelined_tracking_writes_what_sequential_tracking_writes(small_world: Path, tmp_path: Path) -> None:
    outputs = {}
    for pipeline in (False, True):
        overrides = ["progress=false", "save_crops=true", "detector.batch=3", *HALF_SIZE]
        overrides.append(f"pipeline={str(pipeline).lower()}")
        config = load_config(TrackConfig, "synth", overrides, stage="track")
        out = tmp_path / f"pipeline_{pipeline}"
        summary = run_track(small_world / "videos", out, config).to_json()
        assert [c["frames"] for c in summary["cameras"]] == [80, 80]
        outputs[pipeline] = [_outputs(out, camera) for camera in ("cam1", "cam2")]
        assert len(outputs[pipeline][0][1]) > 50
    assert outputs[True] == outputs[False]


def test_changing_only_how_stages_run_keeps_a_stores_results(small_world: Path, tmp_path: Path) -> None:
    base = ["progress=false", "save_crops=false", "cameras=[cam1]", *HALF_SIZE]
    out = tmp_path / "run"
    run_track(small_world / "videos", out, load_config(TrackConfig, "synth", base, stage="track"))
    how = ["pipeline=false", "detector.threads=1", "embedder.threads=1"]
    config = load_config(TrackConfig, "synth", [*base, *how], stage="track")
    assert run_track(small_world / "videos", out, config).to_json()["skipped_complete"] == ["cam1"]


def test_a_failing_stage_stops_the_pipeline_with_its_error(
    small_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = camera_module.build_detector

    def failing_detector(*args, **kwargs):
        detector = build(*args, **kwargs)
        calls = iter(range(10**6))
        detect = detector.detect

        def detect_then_fail(images, indices):
            if next(calls) == 4:
                raise RuntimeError("detector crashed on the fifth batch")
            return detect(images, indices)

        detector.detect = detect_then_fail
        return detector

    monkeypatch.setattr(camera_module, "build_detector", failing_detector)
    before = threading.active_count()
    overrides = ["progress=false", "pipeline=true", "cameras=[cam1]", *HALF_SIZE]
    config = load_config(TrackConfig, "synth", overrides, stage="track")
    with pytest.raises(RuntimeError, match="fifth batch"):
        run_track(small_world / "videos", tmp_path / "run", config)
    assert threading.active_count() == before
    assert not (tmp_path / "run" / "index" / "cam1.csv").exists()  # nothing marks the camera complete


def test_pets09_pipelined_equals_sequential(shared_data: Path, tmp_path: Path) -> None:
    video = need(shared_data, "video/pets09_s2l1_view1.avi")
    models = shared_data / "models"
    overrides = [
        f"detector.weights={need(shared_data, 'models/yolox_nano.onnx')}",
        f"embedder.weights={models / 'osnet_x0_25_msmt17.onnx'}",
        "video.end_s=12",
        "progress=false",
    ]
    texts = []
    for how in (["pipeline=false"], ["pipeline=true", "embedder.parallel_frames=3"]):
        config = load_config(TrackConfig, "pets09", [*overrides, *how], stage="track")
        out = tmp_path / how[0].replace("=", "_")
        run_track(video, out, config)
        texts.append(_outputs(out, video.stem))
    assert texts[0][0].count("\n") > 300  # about 5 people over 84 frames
    assert texts[1] == texts[0]


def test_automatic_threads_share_the_cores_among_workers_and_overlapping_stages_do_not_spin() -> None:
    cores = len(os.sched_getaffinity(0))
    overrides = ["pipeline=true", "embedder.threads=3"]
    pipelined = camera_module.how_stages_run(load_config(TrackConfig, None, overrides))
    assert pipelined.detector.threads == cores and pipelined.embedder.threads == 3
    assert not pipelined.detector.spin and not pipelined.embedder.spin
    sequential = camera_module.how_stages_run(load_config(TrackConfig, None, ["pipeline=false", "workers=2"]))
    assert sequential.detector.threads == sequential.embedder.threads == max(1, cores // 2)
    assert sequential.detector.spin and sequential.embedder.spin


@pytest.mark.parametrize(
    ("cores", "device", "overlap"), [(1, "cpu", False), (2, "cpu", True), (8, "cpu", True), (1, "cuda", True)]
)
def test_the_stages_overlap_by_default_with_a_network_on_a_gpu_or_two_cores_a_worker(
    cores: int, device: str, overlap: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(cores)))
    config = load_config(TrackConfig, None, [f"detector.device={device}", "embedder.device=cpu"])
    assert config.pipeline is None and config.detector.backend == "yolo"  # a network model
    assert camera_module.how_stages_run(config).pipeline is overlap
    two_workers = load_config(TrackConfig, None, ["workers=2", "detector.device=cpu", "embedder.device=cpu"])
    assert camera_module.how_stages_run(two_workers).pipeline is (cores // 2 >= 2)


@pytest.mark.parametrize(("cores", "overlap"), [(2, False), (3, False), (4, True)])
def test_without_a_network_model_the_stages_overlap_by_default_from_four_cores_a_worker(
    cores: int, overlap: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Background subtraction and colour histograms: single-threaded stages that gained nothing from the
    overlap on 2 cores."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(cores)))
    config = load_config(TrackConfig, None, ["detector.backend=bgsub", "embedder.backend=histogram"])
    assert camera_module.how_stages_run(config).pipeline is overlap


def test_a_cameras_own_cores_decide_its_threads_and_overlap_whatever_the_machine_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Ray task of ``ray.cpus_per_camera`` CPUs passes them as ``cores``: the machine's count and
    ``workers`` no longer matter."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(32)))
    config = load_config(TrackConfig, None, ["workers=4", "detector.device=cpu", "embedder.device=cpu"])
    assert camera_module.how_stages_run(config).detector.threads == 8
    for cores, overlap in ((1, False), (2, True)):
        settled = camera_module.how_stages_run(config, cores=cores)
        assert settled.detector.threads == settled.embedder.threads == cores
        assert settled.pipeline is overlap


@pytest.mark.parametrize("cores", [2, 4])
def test_an_onnx_embedder_on_the_cpu_embeds_a_frame_per_core_when_the_stages_overlap(
    cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(cores)))
    onnx = ["embedder.backend=onnx", "embedder.device=cpu", "detector.device=cpu"]

    def settled(*overrides: str):
        return camera_module.how_stages_run(load_config(TrackConfig, None, [*onnx, *overrides]))

    overlapped = settled("pipeline=true")
    assert (overlapped.embedder.parallel_frames, overlapped.embedder.threads) == (cores, 1)
    assert overlapped.detector.threads == cores  # the detector keeps every core
    asked = settled("pipeline=true", "embedder.threads=2")
    assert (asked.embedder.parallel_frames, asked.embedder.threads) == (cores // 2, 2)
    sequential = settled("pipeline=false")
    assert (sequential.embedder.parallel_frames, sequential.embedder.threads) == (1, cores)
    on_gpu = settled("pipeline=true", "embedder.device=cuda")
    assert (on_gpu.embedder.parallel_frames, on_gpu.embedder.threads) == (1, cores)
    histogram = camera_module.how_stages_run(
        load_config(TrackConfig, None, ["pipeline=true", "embedder.backend=histogram"])
    )
    assert histogram.embedder.parallel_frames == 1
    assert settled("pipeline=false", "embedder.parallel_frames=3").embedder.parallel_frames == 3
    with pytest.raises(ConfigError, match="parallel_frames"):
        load_config(TrackConfig, None, ["embedder.parallel_frames=-1"])


class _SlowEmbedder:
    """Features that name their frame and box, made after a random pause (so that parallel calls finish
    out of order); fails at ``fail_at``."""

    needs_pixels = False
    identity = None
    appearance_gate = None

    def __init__(self, fail_at: int | None = None):
        self.fail_at = fail_at
        self.rng = np.random.default_rng(3)

    def embed(self, image: object, boxes: np.ndarray, index: int) -> np.ndarray:
        time.sleep(float(self.rng.uniform(0, 0.004)))
        if index == self.fail_at:
            raise RuntimeError(f"embedder failed at frame {index}")
        return np.array([[index, k] for k in range(len(boxes))], np.float32)


def _frames(count: int):
    for index in range(count):
        boxes = np.zeros((index % 4, 4))  # frames without a box too
        yield index, index / 25, None, boxes, np.ones(len(boxes))


def test_frames_embedded_in_parallel_come_out_in_order_with_their_own_features() -> None:
    times: dict[str, float] = {"embed": 0.0}
    one = list(camera_module._embedded(_frames(40), _SlowEmbedder(), {"embed": 0.0}, parallel=1))
    before = threading.active_count()
    three = list(camera_module._embedded(_frames(40), _SlowEmbedder(), times, parallel=3))
    assert [item[0] for item in three] == list(range(40))
    for a, b in zip(one, three, strict=True):
        assert (a[5] is None and b[5] is None) or np.array_equal(a[5], b[5])
    assert three[5][5].tolist() == [[5, 0]]
    assert times["embed"] > 0 and threading.active_count() == before


def test_a_failing_parallel_embedding_raises_at_its_frame_and_leaves_no_thread() -> None:
    before = threading.active_count()
    seen = []
    with pytest.raises(RuntimeError, match="frame 9"):
        for item in camera_module._embedded(_frames(40), _SlowEmbedder(fail_at=9), {"embed": 0.0}, 3):
            seen.append(item[0])
    assert seen == list(range(9))
    assert threading.active_count() == before
    stopped = camera_module._embedded(_frames(40), _SlowEmbedder(), {"embed": 0.0}, 3)
    assert [next(stopped)[0] for _ in range(2)] == [0, 1]
    stopped.close()  # a consumer that stops early: the pool's threads end
    assert threading.active_count() == before


def test_graph_optimization_levels_give_the_same_outputs_to_rounding(tmp_path: Path) -> None:
    path = _embedder_like(tmp_path / "embedder.onnx")
    crops = np.random.default_rng(4).random((3, 3, 8, 4), dtype=np.float32)
    outputs = {
        level: open_onnx(path, device="cpu", runtime=OnnxRuntime(optimization=level)).run(crops)
        for level in ("all", "extended", "basic")
    }
    for level in ("extended", "basic"):
        np.testing.assert_allclose(outputs[level], outputs["all"], rtol=1e-5, atol=1e-5)
    with pytest.raises(ConfigError, match="graph_optimization"):
        load_config(TrackConfig, None, ["embedder.graph_optimization=fastest"])
