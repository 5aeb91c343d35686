"""Where an AVI file is damaged, by frame number, from its RIFF structure.

FFmpeg's AVI demuxer numbers packets by counting them: when a damaged stretch of the file hides some frame
chunks, it resyncs on the next chunk it recognises and every later frame comes out numbered too early, with
timestamps that agree. The file's index (``idx1``) still says where each frame's chunk starts, so a chunk
whose header is not at its indexed place is damaged; the reader skips such stretches and seeks to the next
intact key frame, where the demuxer's numbering comes from the index again.

Without an index (a recording cut short, or a writer that writes none), the ``movi`` chunks are walked in
file order: a chunk header that does not parse before the end of the file means the frame numbers after it
cannot be known.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_KEYFRAME = 0x10  # AVIIF_KEYFRAME in an idx1 entry's flags
_CHUNK_ID = re.compile(rb"[0-9A-Za-z_ ]{4}")  # a FOURCC


@dataclass(frozen=True)
class Damage:
    """Frames ``first..last`` (1-based, inclusive) are damaged in the file; ``resume`` is the first intact key
    frame after them, where reading can go on with true frame numbers (None: nothing after is usable)."""

    first: int
    last: int
    resume: int | None


@dataclass(frozen=True)
class _Entry:
    chunk_id: bytes
    keyframe: bool
    offset: int  # of the chunk header, from the start of the file
    size: int


def avi_damage(path: Path) -> list[Damage]:
    """The damaged stretches of the AVI's video stream, in frame order; empty when the file is intact, is
    not a RIFF AVI, or ends early (a cut-off end is not damage: its frames are simply missing)."""
    with open(path, "rb") as file:
        file_size = file.seek(0, 2)
        file.seek(0)
        if file.read(12)[8:12] != b"AVI ":
            return []
        top = dict(_chunks(file, 12, file_size))
        if b"movi" not in top or b"hdrl" not in top:
            return []
        stream = _video_stream(file, *top[b"hdrl"])
        if stream is None:
            return []
        movi_start, movi_end = top[b"movi"]
        if b"idx1" in top:
            return _indexed_damage(file, stream, movi_start - 4, *top[b"idx1"])
        return _walked_damage(file, stream, movi_start, min(movi_end, file_size), file_size)


def _chunks(file: BinaryIO, start: int, end: int) -> list[tuple[bytes, tuple[int, int]]]:
    """(id, (data start, data end)) of the chunks in [start, end); a LIST is named by its list type."""
    found = []
    position = start
    while position + 8 <= end:
        file.seek(position)
        chunk_id, size = struct.unpack("<4sI", file.read(8))
        if not _CHUNK_ID.fullmatch(chunk_id):
            break
        data = position + 8
        if chunk_id == b"LIST":
            file.seek(data)
            found.append((file.read(4), (data + 4, data + size)))
        else:
            found.append((chunk_id, (data, data + size)))
        position = data + size + (size & 1)
    return found


def _video_stream(file: BinaryIO, start: int, end: int) -> bytes | None:
    """The two-digit chunk prefix of the first video stream (b"00" for stream 0), or None."""
    number = 0
    for chunk_id, (data, _) in _chunks(file, start, end):
        if chunk_id != b"strl":
            continue
        headers = dict(_chunks(file, data, end))
        if b"strh" in headers:
            file.seek(headers[b"strh"][0])
            if file.read(4) == b"vids":
                return b"%02d" % number
        number += 1
    return None


def _header_ok(file: BinaryIO, entry: _Entry) -> bool:
    file.seek(entry.offset)
    header = file.read(8)
    return len(header) == 8 and header == struct.pack("<4sI", entry.chunk_id, entry.size)


def _indexed_damage(file: BinaryIO, stream: bytes, movi: int, start: int, end: int) -> list[Damage]:
    file.seek(start)
    raw = file.read(end - start)
    entries = [
        _Entry(chunk_id, bool(flags & _KEYFRAME), offset, size)
        for chunk_id, flags, offset, size in struct.iter_unpack("<4sIII", raw[: len(raw) // 16 * 16])
    ]
    if not entries:
        return []
    # idx1 offsets are from the 'movi' list type, or (some writers) from the start of the file.
    relative = _Entry(entries[0].chunk_id, False, movi + entries[0].offset, entries[0].size)
    base = movi if _header_ok(file, relative) or not _header_ok(file, entries[0]) else 0
    entries = [_Entry(e.chunk_id, e.keyframe, base + e.offset, e.size) for e in entries]
    intact = [_header_ok(file, entry) for entry in entries]
    frames: list[tuple[bool, bool]] = []  # (damaged, keyframe) of each video frame, in order
    for i, entry in enumerate(entries):
        if entry.chunk_id[:2] == stream and entry.chunk_id[2:] in (b"dc", b"db"):
            # The damage may start inside this frame's data when the next chunk's header is broken.
            broken_next = i + 1 < len(entries) and not intact[i + 1]
            frames.append((not intact[i] or broken_next, entry.keyframe))
    return _stretches(frames)


def _stretches(frames: list[tuple[bool, bool]]) -> list[Damage]:
    damage = []
    index = 0
    while index < len(frames):
        if not frames[index][0]:
            index += 1
            continue
        first = last = index
        while last + 1 < len(frames) and (frames[last + 1][0] or not frames[last + 1][1]):
            last += 1  # damaged frames, and the frames that depend on them up to the next key frame
        resume = last + 2 if last + 1 < len(frames) else None
        damage.append(Damage(first + 1, last + 1, resume))
        index = last + 1
    return damage


def _walked_damage(file: BinaryIO, stream: bytes, start: int, end: int, file_size: int) -> list[Damage]:
    frames = 0
    position = start
    while position + 8 <= end:
        file.seek(position)
        chunk_id, size = struct.unpack("<4sI", file.read(8))
        if not _CHUNK_ID.fullmatch(chunk_id):
            return [Damage(frames + 1, frames + 1, None)]  # past here, nothing says which frame is which
        if chunk_id == b"LIST":
            position += 12  # a 'rec ' list: its chunks follow
            continue
        if chunk_id[:2] == stream and chunk_id[2:] in (b"dc", b"db"):
            frames += 1
        position += 8 + size + (size & 1)
        if position > file_size:
            break  # cut off at the end
    return []
