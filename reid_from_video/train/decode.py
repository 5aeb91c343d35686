"""Fast image decoding into fixed-size uint8 batches for training.

Decoding, not the model, is what starves a GPU on re-ID crops, so the work is kept small:

* one read of the file and one ``cv2.imdecode`` (``np.fromfile`` + ``imdecode`` rather than ``imread``,
  which cannot open non-ASCII paths on Windows);
* a JPEG at least 2, 4 or 8 times the model input in both sides is decoded at 1/2, 1/4 or 1/8 of its
  resolution (``cv2.IMREAD_REDUCED_COLOR_*``: libjpeg scales in the DCT domain, several times faster,
  and the averaging it does is a better low-pass than bilinear resizing from far above). The source size
  comes from the JPEG's SOF header (:func:`jpeg_size`), read from the bytes already in memory;
* the resize to (height, width) happens per image in the decoding process, so a batch leaves it as one
  contiguous (N, H, W, 3) uint8 array: a quarter of the bytes of float, copied to the device as is and
  normalised there (:func:`reid_from_video.train.augment.normalize`).

:class:`BatchDataset` serves *whole batches* (the sampler decides their content), and :func:`batch_loader`
runs it in worker processes in the order of the batches. The dataset keeps its paths and batches in a few
numpy arrays rather than Python lists: forked workers then share them instead of copying every object
page they touch (reference counts write to the pages of Python objects).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from reid_from_video.core.device import cpu_cores
from reid_from_video.core.errors import InputError

# SOF0 baseline, SOF1 extended sequential, SOF2 progressive: the Huffman-coded JPEGs libjpeg can scale.
_SOF_MARKERS = (0xC0, 0xC1, 0xC2)
# The other frame headers (lossless, hierarchical, arithmetic) and the start of scan: no scaled decoding.
_OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, *range(0xC9, 0xCC), *range(0xCD, 0xD0), 0xDA}
# Markers without a length field: TEM, RST0-7, SOI, EOI.
_STANDALONE = {0x01, *range(0xD0, 0xDA)}
_HEADER_BYTES = 1 << 16  # first read of jpeg_size: covers the header (EXIF included) of nearly every file
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4), (2, cv2.IMREAD_REDUCED_COLOR_2))


def parse_jpeg_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(height, width) from a JPEG's SOF0/1/2 header in ``data`` (the file's bytes, or its beginning, as
    bytes or a uint8 array), or None: not a JPEG, another coding (lossless, arithmetic), a malformed
    header, or one that runs past ``data``. Walks the segments by their lengths, so the SOF of an EXIF
    thumbnail is never mistaken for the image's."""
    view = memoryview(data).cast("B")  # indexing gives ints, slicing copies nothing

    def u16(at: int) -> int:
        return view[at] << 8 | view[at + 1]

    if len(view) < 2 or u16(0) != 0xFFD8:
        return None
    pos = 2
    while pos + 4 <= len(view):
        if view[pos] != 0xFF:
            return None  # not at a marker: a malformed header
        marker = view[pos + 1]
        if marker == 0xFF:  # a fill byte before a marker
            pos += 1
        elif marker in _STANDALONE:
            pos += 2
        elif marker in _SOF_MARKERS:
            if pos + 9 > len(view):
                return None
            height, width = u16(pos + 5), u16(pos + 7)
            return (height, width) if height > 0 and width > 0 else None  # height 0: set later by DNL
        elif marker in _OTHER_FRAMES:
            return None
        else:
            pos += 2 + u16(pos + 2)
    return None


def jpeg_size(path: str | Path) -> tuple[int, int] | None:
    """(height, width) of a JPEG file from its header alone, or None (see :func:`parse_jpeg_size`)."""
    with open(path, "rb") as handle:
        head = handle.read(_HEADER_BYTES)
        size = parse_jpeg_size(head)
        if size is None and len(head) == _HEADER_BYTES:  # a header longer than the first read
            size = parse_jpeg_size(head + handle.read())
    return size


def reduction(source: tuple[int, int] | None, size: tuple[int, int]) -> int:
    """The largest of 8, 4, 2 that ``source`` (height, width) is at least that many times ``size`` in both
    sides; 1 (full decoding) when none is, or the source size is unknown."""
    if source is not None:
        for factor, _ in _REDUCED:
            if source[0] >= factor * size[0] and source[1] >= factor * size[1]:
                return factor
    return 1


def read_image(path: str | Path, size: tuple[int, int], rgb: bool) -> np.ndarray:
    """The image at ``path`` as (height, width, 3) uint8, ``size`` = (height, width), resized with
    ``cv2.INTER_LINEAR`` (after a reduced-resolution decode when the JPEG is large enough), RGB when
    ``rgb`` else BGR. An unreadable or undecodable file is an :class:`InputError` naming it."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        raise InputError(path, "cannot read the image") from None
    flag = dict(_REDUCED).get(reduction(parse_jpeg_size(data), size), cv2.IMREAD_COLOR)
    try:
        image = cv2.imdecode(data, flag) if data.size else None
    except cv2.error:
        image = None
    if image is None:
        raise InputError(path, "cannot read the image")
    height, width = size
    if image.shape[:2] != (height, width):
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if rgb else image


def read_batch(paths: Sequence[str | Path], size: tuple[int, int], rgb: bool) -> np.ndarray:
    """The images at ``paths`` as one contiguous (N, height, width, 3) uint8 array, see :func:`read_image`."""
    batch = np.empty((len(paths), size[0], size[1], 3), np.uint8)
    for row, path in enumerate(paths):
        batch[row] = read_image(path, size, rgb)
    return batch


class BatchDataset(Dataset):
    """A dataset whose item ``i`` is the whole batch ``batches[i]``: (N, H, W, 3) uint8 torch tensor of the
    images ``paths[batches[i]]``, ``size`` = (height, width), RGB when ``rgb``."""

    def __init__(
        self, paths: Sequence[str | Path], size: tuple[int, int], rgb: bool, batches: Sequence[np.ndarray]
    ):
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"size must be (height, width) > 0, got {size}")
        self.size = (int(size[0]), int(size[1]))
        self.rgb = rgb
        encoded = [str(p).encode("utf-8") for p in paths]
        self._path_bytes = np.frombuffer(b"".join(encoded), np.uint8)
        self._path_ends = np.cumsum([len(e) for e in encoded], dtype=np.int64)
        rows = [np.asarray(b, dtype=np.int64).reshape(-1) for b in batches]
        self._rows = np.concatenate(rows) if rows else np.empty(0, np.int64)
        self._batch_ends = np.cumsum([len(r) for r in rows], dtype=np.int64)
        if len(self._rows) and (self._rows.min() < 0 or self._rows.max() >= len(encoded)):
            raise ValueError(f"batch indices must be in 0..{len(encoded) - 1}")

    def __len__(self) -> int:
        return len(self._batch_ends)

    def path(self, index: int) -> str:
        """The path ``paths[index]`` given at construction."""
        start = int(self._path_ends[index - 1]) if index > 0 else 0
        return self._path_bytes[start : self._path_ends[index]].tobytes().decode("utf-8")

    def rows(self, i: int) -> np.ndarray:
        """The path indices of batch ``i``."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"batch {i} of {len(self)}")
        i %= len(self)
        start = int(self._batch_ends[i - 1]) if i > 0 else 0
        return self._rows[start : self._batch_ends[i]]

    def __getitem__(self, i: int) -> torch.Tensor:
        paths = [self.path(int(row)) for row in self.rows(i)]
        return torch.from_numpy(read_batch(paths, self.size, self.rgb))


def batch_loader(dataset: BatchDataset, workers: int, pin_memory: bool, prefetch: int = 4) -> DataLoader:
    """Batches of ``dataset`` in its order, decoded by ``workers`` processes (0: in this process), each
    worker ``prefetch`` batches ahead; ``pin_memory`` for fast, asynchronous copies to a GPU. No more
    workers than this process has cores (a preset's 8, meant for a GPU machine, on a 2-core laptop only
    crowds out training); the batches are the same whatever their number."""
    if workers < 0 or prefetch < 1:
        raise ValueError(f"workers must be >= 0 and prefetch >= 1, got {workers}, {prefetch}")
    workers = min(workers, cpu_cores())
    return DataLoader(
        dataset,
        batch_size=None,  # items are whole batches already: no collation, sequential order
        shuffle=False,
        num_workers=workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=prefetch if workers > 0 else None,
        worker_init_fn=_init_worker if workers > 0 else None,
        multiprocessing_context=_worker_context() if workers > 0 else None,
    )


def _worker_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a clean server process, not from this one: a fork of a process whose OpenCV or
    OpenMP thread pools are running (e.g. ``rfv run`` tracked in it before training) can deadlock in the
    child. The server starts once per process, with torch and OpenCV already imported."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()  # e.g. Windows: spawn, already clean
    multiprocessing.set_forkserver_preload(["torch", "cv2", __name__])
    return multiprocessing.get_context("forkserver")


def _init_worker(worker_id: int) -> None:
    """One thread per worker: the workers are the parallelism, and N workers x M threads oversubscribe."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
