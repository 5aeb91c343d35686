"""Hashes that decide whether work must be done again: a file's content (``file_sha256``: a model's
identity), a stage's output files (``content_hash``), an input folder (``tree_fingerprint``) and the key of a
piece of work (``work_key``).

Input folders are fingerprinted by every file's relative path, size and modification time: cheap on a
million crops or a large video, and what changes when a file is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def _feed(digest: Any, file: Path) -> None:
    with file.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)


def file_sha256(path: str | Path) -> str:
    """The sha256 of the bytes of ``path`` (its name does not count: a renamed copy hashes the same)."""
    digest = hashlib.sha256()
    _feed(digest, Path(path))
    return digest.hexdigest()


def content_hash(files: Iterable[str | Path]) -> str:
    """Hash of the names and bytes of ``files`` (a missing file hashes as missing)."""
    digest = hashlib.sha256()
    for file in files:
        file = Path(file)
        digest.update(f"{file.name}\0".encode())
        if not file.is_file():
            digest.update(b"missing")
            continue
        _feed(digest, file)
    return digest.hexdigest()


def tree_fingerprint(path: str | Path) -> str:
    """Hash of (relative path, size, mtime) of every file under ``path`` (or of the file itself)."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(Path(root) / name for root, _, names in os.walk(path) for name in names)
    else:
        return "missing"
    for file in files:
        stat = file.stat()
        name = file.name if file == path else file.relative_to(path).as_posix()
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def work_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able mapping (config, upstream keys, fingerprints)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
