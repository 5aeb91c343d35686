"""Camera discovery and frame iteration: video files, folders of images and MOTChallenge sequences.

A *camera* is one video file, one folder of images, or one MOTChallenge sequence folder (``seqinfo.ini`` plus
the image folder it names, usually ``img1/``). :func:`discover_cameras` turns a path into cameras;
:func:`iter_frames` reads a camera's frames as BGR ``uint8`` arrays with their 1-based index and time.

Frame ``k`` of a camera is at ``start_time + (k - 1) / fps`` seconds. ``start_time`` (default 0) comes from an
optional JSON sidecar, so that the cameras of one site can share a clock:

- ``<video stem>.json`` beside a video file (``cam1.json`` for ``cam1.mp4``),
- ``camera.json`` inside an image folder or a MOT sequence folder,

with the keys ``start_time`` (seconds as a number, or an ISO-8601 datetime string, read as UTC when it has no
timezone) and, optionally, ``fps``. For example ``{"start_time": "2024-05-01T08:30:00Z", "fps": 12.5}``.

The frame rate of a camera is the first of: the sidecar's ``fps``; the camera's own (the video's metadata,
``frameRate`` in ``seqinfo.ini``); the ``fps`` argument of :func:`discover_cameras`; :data:`DEFAULT_FPS`
(image folders only: a video that states no frame rate, with none given, is an error).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, NamedTuple

import cv2
import numpy as np

from reid_from_video.core.errors import InputError, os_problem
from reid_from_video.io.avi import Damage, avi_damage
from reid_from_video.io.config import check_fps, check_selection, fps_problem, is_number
from reid_from_video.io.mot import read_seqinfo

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
DEFAULT_FPS = 25.0
"""Frame rate of an image folder that states none (no sidecar ``fps``, no ``fps`` argument)."""
CAMERA_SIDECAR = "camera.json"
SIDECAR_KEYS = ("start_time", "fps")
MAX_FAILED_GRABS = 30
"""After a video frame fails to decode, how many further frames to try before concluding the video ended."""
SEEK_MARGIN = 16
"""OpenCV's FFmpeg reader seeks to frame k from the key frame at or before k - 16, then decodes forward."""

CameraKind = Literal["video", "images", "mot"]

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Camera:
    """One camera: a video file, a folder of images or a MOTChallenge sequence.

    ``path`` is the video file or the camera's folder (for MOT, the sequence folder, not ``img1/``).
    ``frame_count`` counts the frames that exist: the image files found (a ``seqinfo.ini`` may announce more),
    or the frame count a video's container states. ``frames`` holds, for image kinds, the ``(frame_index,
    file)`` pairs sorted by index (indices can have gaps); it is empty for a video, whose frames are
    ``1..frame_count``.
    """

    name: str
    path: Path
    kind: CameraKind
    fps: float
    frame_count: int
    width: int
    height: int
    start_time: float = 0.0
    frames: tuple[tuple[int, Path], ...] = field(default=(), repr=False)

    def time_of(self, index: int) -> float:
        """Time in seconds of frame ``index`` (1-based) on the camera's clock."""
        return self.start_time + (index - 1) / self.fps


class Frame(NamedTuple):
    """One decoded frame: 1-based ``index``, ``time_s = camera.time_of(index)``, BGR uint8 HxWx3 ``image``."""

    index: int
    time_s: float
    image: np.ndarray


# ----------------------------------------------------------------------------------------------- discovery


def discover_cameras(path: str | Path, fps: float | None = None) -> list[Camera]:
    """The cameras at ``path``, sorted by name.

    ``path`` is a video file (one camera), a MOT sequence folder (one), a folder of images (one), or else a
    folder whose children are cameras: video files, MOT sequence folders and folders of images (not searched
    deeper). Hidden entries (names starting with ".") and sidecars are ignored. ``fps`` is the frame rate of
    cameras that state none of their own (see the module docstring).

    Raises InputError, naming the path, for a missing path, an empty folder, a folder with no camera, an
    unreadable video or image folder, a malformed sidecar or seqinfo.ini, or two cameras with one name
    (compared ignoring case: names become folder names of the outputs). Raises ValueError for a bad ``fps``.
    """
    path = Path(path)
    check_fps(fps)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if path.is_file():
        if not _is_video(path):
            raise InputError(path, f"not a video file (expected {', '.join(VIDEO_EXTENSIONS)})")
        return [_video_camera(path, fps)]
    kind = _folder_kind(path)
    if kind is not None:
        return [_folder_camera(path, kind, fps)]

    entries = _visible_entries(path)
    if not entries:
        raise InputError(path, "empty folder")
    cameras = []
    for entry in entries:
        if entry.is_dir():
            kind = _folder_kind(entry)
            if kind is None:
                # Most likely cameras nested one level too deep: say so rather than drop them silently.
                logger.warning("%s: ignored: neither a folder of images nor a MOT sequence", entry)
            else:
                cameras.append(_folder_camera(entry, kind, fps))
        elif _is_video(entry):
            cameras.append(_video_camera(entry, fps))
        else:
            logger.debug("%s: ignored: not a video file", entry)  # sidecars, notes
    if not cameras:
        raise InputError(
            path,
            f"no cameras found: expected video files ({', '.join(VIDEO_EXTENSIONS)}), folders of images "
            f"({', '.join(IMAGE_EXTENSIONS)}) or MOT sequence folders (seqinfo.ini + images)",
        )
    _check_unique_names(path, cameras)
    return sorted(cameras, key=lambda camera: camera.name)


def _check_unique_names(folder: Path, cameras: list[Camera]) -> None:
    seen: dict[str, Camera] = {}
    for camera in cameras:
        other = seen.setdefault(camera.name.casefold(), camera)
        if other is not camera:
            raise InputError(
                folder,
                f"two cameras are named {camera.name!r} ({other.path.name} and {camera.path.name}); "
                "camera names must be unique",
            )


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file()


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()


def _visible_entries(folder: Path) -> list[Path]:
    try:
        return sorted(entry for entry in folder.iterdir() if not entry.name.startswith("."))
    except OSError as error:
        raise InputError(folder, f"cannot list the folder: {error.strerror or error}") from error


def _folder_kind(folder: Path) -> CameraKind | None:
    """The kind of camera the folder is, or None when it is not one by itself (it may hold cameras)."""
    if (folder / "seqinfo.ini").is_file():
        return "mot"
    entries = _visible_entries(folder)
    if not any(_is_image(entry) for entry in entries):
        return None
    # Images beside other cameras are ambiguous (a stray map.png among camera folders, frames beside the
    # video they came from): refuse rather than guess.
    others = [e.name for e in entries if _is_video(e) or (e.is_dir() and _holds_camera(e))]
    if others:
        raise InputError(
            folder,
            f"holds both images and cameras ({', '.join(others[:3])}); "
            "put each camera's images in a folder of their own",
        )
    return "images"


def _holds_camera(folder: Path) -> bool:
    if (folder / "seqinfo.ini").is_file():
        return True
    return any(_is_image(entry) for entry in _visible_entries(folder))


def _choose_fps(*candidates: float | None) -> float | None:
    return next((float(fps) for fps in candidates if fps is not None), None)


def _video_camera(path: Path, fps: float | None) -> Camera:
    sidecar = path.with_suffix(".json")
    start_time, sidecar_fps = _read_sidecar(sidecar)
    capture = _open_video(path)
    try:
        own_fps = capture.get(cv2.CAP_PROP_FPS)
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        # Decoding the first frame proves the file is usable and gives the true frame size.
        ok, image = capture.read()
    finally:
        capture.release()
    frame_count = int(round(count)) if math.isfinite(count) and count > 0 else 0
    if frame_count <= 0:
        raise InputError(path, "the video has no frames (or does not say how many)")
    if not ok or image is None:
        raise InputError(path, "cannot decode the first frame of the video")
    chosen = _choose_fps(sidecar_fps, own_fps if math.isfinite(own_fps) and own_fps > 0 else None, fps)
    if chosen is None:
        raise InputError(path, f"the video states no frame rate: give one as 'fps' in {sidecar.name}")
    return Camera(
        name=path.stem,
        path=path,
        kind="video",
        fps=chosen,
        frame_count=frame_count,
        width=image.shape[1],
        height=image.shape[0],
        start_time=start_time,
    )


def _open_video(path: Path) -> cv2.VideoCapture:
    _check_readable(path)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise InputError(path, "cannot open the video (unsupported format or corrupt file)")
    return capture


def _check_readable(path: Path) -> None:
    """OpenCV says only that it cannot open a file: a file it may not read is said to be so first."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except PermissionError:
        raise InputError(path, "permission denied: this user may not read the file") from None
    except OSError as error:
        raise InputError(path, f"cannot read the file: {os_problem(error)}") from None


def _folder_camera(folder: Path, kind: CameraKind, fps: float | None) -> Camera:
    start_time, sidecar_fps = _read_sidecar(folder / CAMERA_SIDECAR)
    if kind == "mot":
        info = read_seqinfo(folder / "seqinfo.ini")
        frames = _mot_frames(folder / info.im_dir, info.im_ext)
        own_fps: float | None = info.frame_rate
        stated_size = (info.im_width, info.im_height)
    else:
        frames = _numbered_images(folder)
        own_fps = stated_size = None
    width, height = _frame_size(folder, frames)
    if stated_size is not None and stated_size != (width, height):
        # gt boxes are in seqinfo's coordinates: frames of another size would silently misalign them.
        raise InputError(
            folder / "seqinfo.ini",
            f"imWidth x imHeight is {stated_size[0]}x{stated_size[1]} but the frames are {width}x{height}",
        )
    chosen = _choose_fps(sidecar_fps, own_fps, fps)
    if chosen is None:
        chosen = DEFAULT_FPS
        logger.warning(
            "%s: no frame rate given (%s or fps argument): assuming %g fps", folder, CAMERA_SIDECAR, chosen
        )
    return Camera(
        name=folder.name,
        path=folder,
        kind=kind,
        fps=chosen,
        frame_count=len(frames),
        width=width,
        height=height,
        start_time=start_time,
        frames=tuple(frames),
    )


def _natural_key(path: Path) -> tuple:
    # frame_2 before frame_10. re.split with a group alternates text and digits, so parts always compare
    # str with str and int with int.
    parts = re.split(r"([0-9]+)", path.name)
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts)), path.name


def _numbered_images(folder: Path) -> list[tuple[int, Path]]:
    """Frame indices from the file stems when all are integers >= 1, else 1..N in natural name order."""
    files = [entry for entry in _visible_entries(folder) if _is_image(entry)]
    if all(_DIGITS.fullmatch(file.stem) and int(file.stem) >= 1 for file in files):
        return _sorted_unique(folder, [(int(file.stem), file) for file in files])
    return list(enumerate(sorted(files, key=_natural_key), start=1))


def _mot_frames(image_folder: Path, image_ext: str | None) -> list[tuple[int, Path]]:
    """The frames that exist in a MOT image folder, indexed by name (000001.jpg -> 1) to align with gt."""
    if not image_folder.is_dir():
        raise InputError(image_folder, "the image folder named by seqinfo.ini (imDir) does not exist")
    extensions = (image_ext.lower(),) if image_ext else IMAGE_EXTENSIONS
    files = [e for e in _visible_entries(image_folder) if e.suffix.lower() in extensions and e.is_file()]
    if not files:
        raise InputError(image_folder, f"no frames ({', '.join(extensions)} files)")
    frames = []
    for file in files:
        if not (_DIGITS.fullmatch(file.stem) and int(file.stem) >= 1):
            raise InputError(file, "MOT frame files must be named by their 1-based frame number (000001.jpg)")
        frames.append((int(file.stem), file))
    return _sorted_unique(image_folder, frames)


def _sorted_unique(folder: Path, frames: list[tuple[int, Path]]) -> list[tuple[int, Path]]:
    frames = sorted(frames)
    for (index, file), (next_index, next_file) in zip(frames, frames[1:], strict=False):
        if index == next_index:
            raise InputError(folder, f"two files for frame {index}: {file.name} and {next_file.name}")
    return frames


def _frame_size(folder: Path, frames: list[tuple[int, Path]]) -> tuple[int, int]:
    """(width, height) of the first frame that decodes; corrupt frames are reported later, when read."""
    for _, file in frames:
        image = _read_image(file)
        if image is not None:
            return image.shape[1], image.shape[0]
    raise InputError(folder, f"none of the {len(frames)} images can be decoded")


def _read_image(path: Path) -> np.ndarray | None:
    """The image as BGR uint8 HxWx3, or None when it cannot be read or decoded; InputError when this user
    may not read it."""
    # open + imdecode rather than imread: imread cannot open non-ASCII paths on Windows.
    try:
        with open(path, "rb") as handle:
            data = np.frombuffer(handle.read(), dtype=np.uint8)
    except PermissionError:
        raise InputError(path, "permission denied: this user may not read the file") from None
    except OSError:
        return None
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


# ------------------------------------------------------------------------------------------------ metadata


def _read_sidecar(path: Path) -> tuple[float, float | None]:
    """(start_time in seconds, fps or None) from a camera sidecar; (0.0, None) when there is none."""
    if not path.exists():
        return 0.0, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(path, f"invalid JSON: {error.msg}", line=error.lineno) from error
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot read the sidecar: {error}") from error
    valid = ", ".join(SIDECAR_KEYS)
    if not isinstance(data, dict):
        raise InputError(path, f"expected a JSON object with the keys {valid}")
    unknown = sorted(set(data) - set(SIDECAR_KEYS))
    if unknown:
        raise InputError(path, f"unknown key(s) {', '.join(unknown)}; valid keys: {valid}")
    start_time = _start_time_seconds(path, data["start_time"]) if "start_time" in data else 0.0
    fps = data.get("fps")
    problem = fps_problem(fps) if "fps" in data else None
    if problem:
        raise InputError(path, problem)
    return start_time, None if fps is None else float(fps)


def _start_time_seconds(path: Path, value: object) -> float:
    if is_number(value) and math.isfinite(value):
        return float(value)
    if not isinstance(value, str):
        raise InputError(path, f"start_time must be seconds or an ISO-8601 datetime string, got {value!r}")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"  # datetime.fromisoformat accepts "Z" only from Python 3.11
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            path, f"start_time {value!r} is not an ISO-8601 datetime (e.g. 2024-05-01T08:30:00Z)"
        ) from None
    if moment.tzinfo is None:
        # UTC, never the machine's local zone: the same files must give the same times everywhere.
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


# -------------------------------------------------------------------------------------------------- frames


class FrameReader:
    """The frames of one camera in a time range, every ``stride``-th: iterate it to decode them.

    The range is on the ``time_s`` timeline, ``start_s <= time_s < end_s`` (a bound left None is open). Within
    it, the frames kept are those with ``(index - first) % stride == 0``, ``first`` being the index of the
    first frame in range: a fixed step on the index timeline, also where an image sequence has gaps.

    A frame that cannot be used (an image that does not decode or whose size differs from the camera's, a
    video frame that fails to decode while later ones do) is skipped with a logged warning naming the file and
    frame. A video that stops decoding before the frame count it announced gets one warning that it ended
    early, and its missing frames are not counted as skipped.

    A video frame's index is its place in the file, never a count of the frames decoded: frames the file has
    lost (a damaged stretch of an AVI, found by :func:`avi_damage`, or frames the timestamps say were dropped)
    are a gap, logged as one warning naming the file and the frame range, and the frames after it keep their
    true index.

    Counters, restarted by each pass (each ``iter()``): ``frames_read`` (yielded), ``frames_skipped`` and
    ``gaps`` (the ``(first, last)`` frame ranges the file lost).
    ``frames_selected`` is the number of frames selected, the most one pass yields (for progress bars).
    Raises ValueError when ``stride`` is not an integer >= 1 or ``start_s`` is not before ``end_s``.
    """

    def __init__(
        self, camera: Camera, stride: int = 1, start_s: float | None = None, end_s: float | None = None
    ):
        check_selection(stride, start_s, end_s)
        self.camera = camera
        self.stride = int(stride)
        self.start_s = start_s
        self.end_s = end_s
        self.frames_read = 0
        self.frames_skipped = 0
        self.gaps: list[tuple[int, int]] = []
        if camera.kind == "video":
            first, last = self._video_range()
            self.frames_selected = len(range(first, last + 1, self.stride))
        else:
            self.frames_selected = len(self._image_selection())

    def __iter__(self) -> Iterator[Frame]:
        self.frames_read = 0
        self.frames_skipped = 0
        self.gaps = []
        return self._read_video() if self.camera.kind == "video" else self._read_images()

    def _in_range(self, time_s: float) -> bool:
        after_start = self.start_s is None or time_s >= self.start_s
        return after_start and (self.end_s is None or time_s < self.end_s)

    def _image_selection(self) -> list[tuple[int, Path]]:
        camera = self.camera
        in_range = [(index, file) for index, file in camera.frames if self._in_range(camera.time_of(index))]
        if not in_range:
            return []
        first = in_range[0][0]
        return [(index, file) for index, file in in_range if (index - first) % self.stride == 0]

    def _video_range(self) -> tuple[int, int]:
        """(first, last) frame index in range, inclusive; first > last when the range holds no frame."""
        count = self.camera.frame_count
        first = 1 if self.start_s is None else self._first_at_or_after(self.start_s)
        last = count if self.end_s is None else self._first_at_or_after(self.end_s) - 1
        return first, last

    def _first_at_or_after(self, time_s: float) -> int:
        """The smallest index in 1..frame_count with time_of(index) >= time_s, or frame_count + 1."""
        camera, count = self.camera, self.camera.frame_count
        guess = (time_s - camera.start_time) * camera.fps + 1
        index = 1 if guess <= 1 else count + 1 if guess > count else math.ceil(guess)
        # Floating-point rounding can leave the guess one off: settle it on the exact timeline of time_s.
        while index > 1 and camera.time_of(index - 1) >= time_s:
            index -= 1
        while index <= count and camera.time_of(index) < time_s:
            index += 1
        return index

    def _read_images(self) -> Iterator[Frame]:
        camera = self.camera
        for index, file in self._image_selection():
            image = _read_image(file)
            if image is None:
                problem = "the image cannot be decoded"
            elif image.shape[:2] != (camera.height, camera.width):
                problem = (
                    f"its size {image.shape[1]}x{image.shape[0]} differs from the camera's "
                    f"{camera.width}x{camera.height}"
                )
            else:
                self.frames_read += 1
                yield Frame(index, camera.time_of(index), image)
                continue
            self.frames_skipped += 1
            logger.warning("%s: frame %d skipped: %s", file, index, problem)

    def _read_video(self) -> Iterator[Frame]:
        camera = self.camera
        first, last = self._video_range()
        if first > last:
            return
        damage = avi_damage(camera.path) if camera.path.suffix.lower() == ".avi" else []
        capture = _open_video(camera.path)
        try:
            yield from self._decode(_VideoPosition(capture), first, last, damage)
        finally:
            capture.release()

    def _decode(
        self, position: _VideoPosition, first: int, last: int, damage: list[Damage]
    ) -> Iterator[Frame]:
        camera, count = self.camera, self.camera.frame_count
        position.seek(first)
        # The current run of frames that did not decode, as (index, kept). Whether they are corrupt frames or
        # the end of the video is known only when a later frame decodes, or none does.
        failed: list[tuple[int, bool]] = []
        index = first
        # Past `last` the loop only goes on to settle a run of failures, within the announced frame count.
        while index <= count and (index <= last or failed) and len(failed) <= MAX_FAILED_GRABS:
            stretch = next((d for d in damage if d.first <= index < self._reachable(d)), None)
            if stretch is not None:
                self._skip_failed(failed)
                index = self._skip_damage(position, stretch, index, last)
                if index is None:
                    return
                continue
            keep = index <= last and (index - first) % self.stride == 0
            # grab() every frame, retrieve() only kept ones: skipped frames cost no conversion or copy.
            ok = position.capture.grab()
            image = None
            if ok:
                true_index = position.frame_index(index)
                if true_index > index:  # frames the demuxer or decoder dropped without a word
                    self._skip_failed(failed)
                    self._report_gap(index, min(true_index - 1, count), "missing from the decoded stream")
                    index = true_index
                    keep = index <= last and (index - first) % self.stride == 0
            if ok and keep:
                ok, image = position.capture.retrieve()
                ok = ok and image is not None
            if not ok:
                failed.append((index, keep))
            else:
                self._skip_failed(failed)
                if keep and index <= last:
                    self.frames_read += 1
                    yield Frame(index, camera.time_of(index), image)
            index += 1
        if failed:
            logger.warning(
                "%s: the video ended early: no frame decodes from frame %d on (it announces %d frames)",
                camera.path,
                failed[0][0],
                count,
            )

    def _skip_failed(self, failed: list[tuple[int, bool]]) -> None:
        """A later frame decoded: the run of failures were corrupt frames, not the end of the video."""
        for failed_index, failed_kept in failed:
            if failed_kept:
                self.frames_skipped += 1
                logger.warning("%s: frame %d skipped: undecodable", self.camera.path, failed_index)
        failed.clear()

    def _reachable(self, stretch: Damage) -> int:
        """The first frame after a damaged stretch that a seek reaches with its true index.

        OpenCV decodes a seek to k from the key frame at or before k - SEEK_MARGIN, numbering frames by
        counting from there: that key frame must lie past the damage, so the first frames after it are lost
        too (and a reading that starts among them seeks on to here)."""
        if stretch.resume is None:
            return self.camera.frame_count + 1
        return stretch.resume + SEEK_MARGIN

    def _skip_damage(self, position: _VideoPosition, stretch: Damage, index: int, last: int) -> int | None:
        """Report a damaged stretch of the file as a gap and seek past it: the next index to read, or None
        when nothing after it can be read with true frame numbers."""
        resume = self._reachable(stretch)
        why = "damaged in the file" if stretch.resume else "after damage in the file, not read"
        self._report_gap(index, min(resume - 1, self.camera.frame_count), why)
        if resume > min(last, self.camera.frame_count):
            return None
        position.seek(resume)
        return resume

    def _report_gap(self, first: int, last: int, why: str) -> None:
        self.gaps.append((first, last))
        logger.warning("%s: frames %d-%d skipped: %s (a gap)", self.camera.path, first, last, why)


class _VideoPosition:
    """An OpenCV capture, with the true index of the frame just grabbed.

    OpenCV counts the frames it returns (CAP_PROP_POS_FRAMES), so a frame the demuxer or decoder drops makes
    every later count too low. The frame's timestamp (CAP_PROP_POS_MSEC, the container's, 0 when it has none)
    does not count: it is anchored at the first frame after each seek and read in the container's frame rate.
    """

    def __init__(self, capture: cv2.VideoCapture):
        self.capture = capture
        rate = capture.get(cv2.CAP_PROP_FPS)
        self.rate = rate if math.isfinite(rate) and rate > 0 else None
        self.anchor: tuple[int, float] | None = None  # (index, msec) of the first frame grabbed after a seek

    def seek(self, index: int) -> None:
        if index > 1:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, index - 1)
        self.anchor = None

    def frame_index(self, counted: int) -> int:
        """The true index of the frame just grabbed, ``counted`` being what counting grabs gives."""
        msec = self.capture.get(cv2.CAP_PROP_POS_MSEC)
        if self.anchor is None:
            self.anchor = (counted, msec)
            return counted
        anchor_index, anchor_msec = self.anchor
        if self.rate is None or not msec > anchor_msec:  # no timestamp (decoder flush at the end)
            return counted
        return max(counted, anchor_index + round((msec - anchor_msec) * self.rate / 1000))


def iter_frames(
    camera: Camera, stride: int = 1, start_s: float | None = None, end_s: float | None = None
) -> FrameReader:
    """The camera's frames with ``start_s <= time_s < end_s``, every ``stride``-th: a :class:`FrameReader`.

    Iterate the result for :class:`Frame` tuples; its ``frames_read`` and ``frames_skipped`` count what a pass
    yielded and what it had to skip (corrupt or wrong-size frames, each logged as a warning).
    """
    return FrameReader(camera, stride=stride, start_s=start_s, end_s=end_s)
