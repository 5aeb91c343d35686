"""The up-front input check that every command shares: the files a stage reads and the names a library
downloads are looked at before anything runs, and all that is missing is one :class:`MissingInputsError`
naming each full config key and what to give.

Each stage lists its own inputs (``detect.inputs``, ``embed.inputs``, ``models.inputs``, ...) under a key
prefix, so ``rfv track`` names ``detector.weights`` and ``rfv run`` the same input ``track.detector.weights``.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from reid_from_video.core.errors import MissingInput, MissingInputsError

PROBE_TIMEOUT_S = 5.0


def missing_file(key: str, value: str | Path, remedy: str) -> list[MissingInput]:
    """``[]`` when ``value`` is an existing file or folder, else its problem (``remedy``: what to give)."""
    if str(value) and Path(value).exists():
        return []
    return [MissingInput(key, str(value), "not found" if str(value) else "not given", remedy)]


@cache
def reachable(url: str) -> bool:
    """Whether ``url``'s server answers (one HEAD request, proxies honoured, a few seconds at most): where it
    does, a library can download from it. Any HTTP answer counts; no answer (offline, no DNS) does not."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=PROBE_TIMEOUT_S):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):  # URLError, timeouts, refused connections are OSErrors
        return False


def require_inputs(missing: Iterable[MissingInput]) -> None:
    """Raise one :class:`MissingInputsError` listing every item of ``missing``, if there is any."""
    found = list(missing)
    if found:
        raise MissingInputsError(found)
