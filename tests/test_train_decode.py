"""Training image decoding: JPEG header sizes, reduced-resolution decoding close to a full one, channel
order, errors naming the file, and batches served in order by in-process and worker decoding."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from reid_from_video.core.errors import InputError
from reid_from_video.train import decode
from reid_from_video.train.decode import (
    BatchDataset,
    batch_loader,
    jpeg_size,
    parse_jpeg_size,
    read_batch,
    read_image,
    reduction,
)

SIZE = (64, 32)  # (height, width) of the model input


def smooth_image(height: int, width: int) -> np.ndarray:
    """A BGR image of slow gradients, different in each channel (JPEG and resizing both treat it gently)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    blue = 128 + 100 * np.sin(y / height * 3.0)
    green = 40 + 180 * x / width
    red = 128 + 90 * np.cos((x + y) / (height + width) * 5.0)
    return np.clip(np.stack([blue, green, red], axis=-1), 0, 255).astype(np.uint8)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """A large and a small JPEG, a PNG and a corrupt 'JPEG'."""
    paths = {}
    for name, (h, w) in {"large": (600, 300), "small": (50, 20)}.items():
        paths[name] = str(tmp_path / f"{name}.jpg")
        assert cv2.imwrite(paths[name], smooth_image(h, w), [cv2.IMWRITE_JPEG_QUALITY, 95])
    paths["png"] = str(tmp_path / "image.png")
    assert cv2.imwrite(paths["png"], smooth_image(300, 150))
    paths["corrupt"] = str(tmp_path / "corrupt.jpg")
    Path(paths["corrupt"]).write_bytes(b"\xff\xd8\xff\xe0 this is not image data at all" * 3)
    return paths


def test_jpeg_size_reads_the_header(files, tmp_path):
    assert jpeg_size(files["large"]) == (600, 300)
    assert jpeg_size(files["small"]) == (50, 20)
    assert jpeg_size(files["png"]) is None
    assert jpeg_size(files["corrupt"]) is None
    progressive = str(tmp_path / "progressive.jpg")
    cv2.imwrite(progressive, smooth_image(123, 77), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])  # SOF2
    assert jpeg_size(progressive) == (123, 77)


def test_parse_skips_segments_by_length():
    """An APP segment holding bytes that look like a SOF (an EXIF thumbnail) is skipped whole; fill bytes
    before a marker are allowed; a header cut before its SOF gives None."""
    fake_sof = b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10"
    app1 = b"\xff\xe1" + (2 + len(fake_sof)).to_bytes(2, "big") + fake_sof
    sof = b"\xff\xff\xc0\x00\x11\x08\x01\x2c\x00\xc8"  # a fill byte, then 300 x 200
    data = b"\xff\xd8" + app1 + sof + bytes(20)
    assert parse_jpeg_size(data) == (300, 200)
    assert parse_jpeg_size(np.frombuffer(data, np.uint8)) == (300, 200)
    assert parse_jpeg_size(data[: 2 + len(app1) + 4]) is None
    lossless = b"\xff\xd8\xff\xc3\x00\x11\x08\x01\x2c\x00\xc8" + bytes(20)  # SOF3: not scaled
    assert parse_jpeg_size(lossless) is None


def test_jpeg_size_reads_past_a_long_header(tmp_path):
    """A header longer than the first read (a 60 KB APP segment, twice) is still walked to its SOF."""
    ok, encoded = cv2.imencode(".jpg", smooth_image(40, 30))
    assert ok
    app = b"\xff\xe2" + (60_000 + 2).to_bytes(2, "big") + bytes(60_000)
    path = tmp_path / "long.jpg"
    path.write_bytes(encoded.tobytes()[:2] + app + app + encoded.tobytes()[2:])
    assert jpeg_size(path) == (40, 30)
    assert read_image(path, (40, 30), rgb=False).shape == (40, 30, 3)


def test_reduction_factor():
    assert reduction((600, 300), (64, 32)) == 8
    assert reduction((600, 300), (256, 128)) == 2
    assert reduction((511, 300), (128, 64)) == 2  # 4x in width, not in height
    assert reduction((512, 256), (128, 64)) == 4
    assert reduction((255, 127), (256, 128)) == 1  # smaller than the input: full decoding
    assert reduction(None, (64, 32)) == 1


def test_reduced_decoding_is_close_to_the_full_decode(files, monkeypatch):
    flags = []
    imdecode = cv2.imdecode

    def spy(data, flag):
        flags.append(flag)
        return imdecode(data, flag)

    monkeypatch.setattr(decode.cv2, "imdecode", spy)
    fast = read_image(files["large"], SIZE, rgb=False)
    assert flags == [cv2.IMREAD_REDUCED_COLOR_8]
    full = cv2.resize(cv2.imread(files["large"]), (SIZE[1], SIZE[0]), interpolation=cv2.INTER_LINEAR)
    assert fast.shape == (64, 32, 3) and fast.dtype == np.uint8
    diff = np.abs(fast.astype(np.int16) - full.astype(np.int16))
    assert diff.mean() < 4 and np.percentile(diff, 99) < 8
    read_image(files["small"], SIZE, rgb=False)  # smaller than the input: decoded in full, then enlarged
    read_image(files["png"], SIZE, rgb=False)  # no SOF header: full decoding
    assert flags[1:] == [cv2.IMREAD_COLOR, cv2.IMREAD_COLOR]


def test_full_decoding_equals_opencv(files):
    small = read_image(files["small"], SIZE, rgb=False)
    expected = cv2.resize(cv2.imread(files["small"]), (SIZE[1], SIZE[0]), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(small, expected)
    png = read_image(files["png"], (300, 150), rgb=False)  # lossless, already the size: exact pixels
    assert np.array_equal(png, smooth_image(300, 150))


def test_rgb_swaps_the_channels(files):
    bgr = read_image(files["png"], SIZE, rgb=False)
    rgb = read_image(files["png"], SIZE, rgb=True)
    assert np.array_equal(rgb, bgr[..., ::-1]) and not np.array_equal(rgb, bgr)


def test_unreadable_files_name_the_path(files, tmp_path):
    for path in (files["corrupt"], str(tmp_path / "missing.jpg"), str(tmp_path)):
        with pytest.raises(InputError, match="cannot read the image") as error:
            read_image(path, SIZE, rgb=True)
        assert str(error.value).startswith(path)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(InputError):
        read_image(empty, SIZE, rgb=True)


def test_read_batch_stacks_the_images(files):
    paths = [files["large"], files["png"], files["large"]]
    batch = read_batch(paths, SIZE, rgb=True)
    assert batch.shape == (3, 64, 32, 3) and batch.dtype == np.uint8 and batch.flags.c_contiguous
    assert np.array_equal(batch[1], read_image(files["png"], SIZE, rgb=True))
    assert np.array_equal(batch[0], batch[2])
    assert read_batch([], SIZE, rgb=True).shape == (0, 64, 32, 3)


def test_batch_dataset_and_loader_keep_the_order(tmp_path, monkeypatch):
    paths = []
    for i in range(6):  # distinct flat images: each decoded batch says which files it holds
        paths.append(str(tmp_path / f"ü{i}.png"))  # non-ASCII names are read too
        assert cv2.imencode(".png", np.full((20, 10, 3), 40 * i, np.uint8))[1].tofile(paths[-1]) is None
    batches = [np.array([5, 0, 2]), np.array([1]), np.array([3, 3, 4, 0])]
    dataset = BatchDataset(paths, (8, 4), rgb=True, batches=batches)
    assert len(dataset) == 3 and dataset.path(0) == paths[0] and np.array_equal(dataset.rows(2), batches[2])
    item = dataset[0]
    assert isinstance(item, torch.Tensor) and item.dtype == torch.uint8 and item.shape == (3, 8, 4, 3)
    assert item[:, 0, 0, 0].tolist() == [200, 0, 80]
    with pytest.raises(IndexError):
        dataset[3]

    in_process = list(batch_loader(dataset, workers=0, pin_memory=False))
    in_workers = list(batch_loader(dataset, workers=2, pin_memory=False, prefetch=2))
    assert [b[:, 0, 0, 0].tolist() for b in in_process] == [[200, 0, 80], [40], [120, 120, 160, 0]]
    assert len(in_workers) == 3 and all(
        torch.equal(a, b) for a, b in zip(in_process, in_workers, strict=True)
    )
    # More workers than cores (a GPU preset's 8 on a 2-core box): as many as the cores, the same batches.
    monkeypatch.setattr(decode, "cpu_cores", lambda: 2)
    crowded = batch_loader(dataset, workers=8, pin_memory=False, prefetch=2)
    assert crowded.num_workers == 2
    assert all(torch.equal(a, b) for a, b in zip(in_process, list(crowded), strict=True))


def test_batch_dataset_rejects_indices_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="0..1"):
        BatchDataset(["a.jpg", "b.jpg"], SIZE, rgb=True, batches=[np.array([0, 2])])
    with pytest.raises(ValueError):
        batch_loader(BatchDataset([], SIZE, rgb=True, batches=[]), workers=-1, pin_memory=False)
