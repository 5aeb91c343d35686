"""Fingerprints that decide whether a stage of ``rfv run`` must run again.

A stage's key hashes its resolved config, the keys of the stages it reads, the content of their main
output files, and a fingerprint of the external inputs it reads (camera folder, ground truth, evaluation
set). External folders are fingerprinted by every file's relative path, size and modification time: cheap
on a million crops, and what changes when a file is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


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


def stage_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able mapping (config, upstream keys, fingerprints)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
