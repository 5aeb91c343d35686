"""The export's own error: a model that did not export, or whose export does not compute what it should."""

from __future__ import annotations

from reid_from_video.core.errors import InputError


class ExportError(InputError):
    """An export failed (the exporter raised, or the parity check found different features); the message
    starts with the file concerned, like every :class:`InputError`."""
