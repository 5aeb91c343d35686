"""Content hashes of files: a model's identity (``file_sha256``) and the content of a stage's outputs."""

from __future__ import annotations

import hashlib
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
