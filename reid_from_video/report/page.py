"""The run report: one self-contained HTML page (charts and crops embedded, no script, nothing fetched)
built from what the stages wrote in a run folder; :func:`write_report` is what ``rfv report`` and ``rfv run``
call.

Sections: run summary (camera folder, headline figures, each stage's status, time and folder), tracking,
MOT metrics and rFM / rSW per camera (when mot-eval ran), training labels and their quality, training
curves, the CMC curve and mAP / rank-1 of the learned model against the untrained network, the exported
model, a montage of sample tracklets per label, and time per stage. An absent stage is said to be absent;
a file that cannot be read is named in its section, and the rest of the page is still written.

To look at a report as a person would (headless Chromium; the tests do not need it)::

    apt-get install -y chromium
    chromium --headless --no-sandbox --screenshot=shot.png --window-size=1280,4000 file://$PWD/RUN/report.html
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from reid_from_video.core.atomic import atomic_write
from reid_from_video.core.errors import InputError, RfvError
from reid_from_video.core.lock import output_lock
from reid_from_video.report import sections
from reid_from_video.report.association import render_associate
from reid_from_video.report.config import REPORT_FILE, ReportConfig
from reid_from_video.report.context import Context
from reid_from_video.report.exported import render_export
from reid_from_video.report.html import Raw, code, join, note, page, tag
from reid_from_video.report.labelling import render_labels, render_montage
from reid_from_video.report.learning import render_evaluation, render_training
from reid_from_video.report.summary import render_summary, render_times
from reid_from_video.report.tracking import render_mot, render_track

log = logging.getLogger(__name__)

TITLE = "reid_from_video run report"
READERS: dict[str, Callable[[Path], object]] = {
    "run": sections.read_run,
    "track": sections.read_track,
    "mot-eval": sections.read_mot_eval,
    "label": sections.read_label,
    "train": sections.read_train,
    "evaluate": sections.read_evaluate,
    "export": sections.read_export,
    "associate": sections.read_associate,
}
# (anchor, title, short name for the navigation bar, renderer, the stages it reads)
SECTIONS: list[tuple[str, str, str, Callable[[Context], list[Any]], tuple[str, ...]]] = [
    ("summary", "Run summary", "Summary", render_summary, ("run", "track")),
    ("track", "Tracking", "Tracking", render_track, ("track",)),
    ("mot", "MOT metrics and tracklet noise (rFM / rSW)", "MOT metrics", render_mot, ("mot-eval",)),
    ("labels", "Training labels and their quality", "Labels", render_labels, ("label",)),
    ("train", "Training", "Training", render_training, ("train",)),
    (
        "evaluate",
        "Re-identification: the learned model against the network it started from",
        "Evaluation",
        render_evaluation,
        ("train", "evaluate"),
    ),
    ("export", "Exported model", "Export", render_export, ("export",)),
    ("associate", "Identities across cameras", "Identities", render_associate, ("associate",)),
    ("montage", "Sample tracklets per label", "Montage", render_montage, ("track", "label")),
    ("time", "Time per stage", "Time", render_times, ("run", "track")),
]
# What a section may meet in a run folder cut short or written by hand: an unreadable file, or one whose
# structure is not what the stage writes (KeyError, TypeError); the section names it, the page is written.
READ_ERRORS = (RfvError, OSError, ValueError, KeyError, TypeError)


def _error_section(anchor: str, title: str, errors: list[Exception]) -> Raw:
    notes = [note(f"could not read this stage: {error}", "error") for error in errors]
    return tag("section", join([tag("h2", title), *notes]), id=anchor)


def _read_all(run: Path) -> tuple[dict[str, object], dict[str, Exception]]:
    data: dict[str, object] = {}
    errors: dict[str, Exception] = {}
    for name, reader in READERS.items():
        try:
            data[name] = reader(run)
        except READ_ERRORS as error:
            log.warning("report: %s", error)
            data[name], errors[name] = None, error
    return data, errors


def build_report(
    run_dir: str | Path, out_dir: str | Path | None = None, config: ReportConfig | None = None
) -> str:
    """The report of the run in ``run_dir`` as one HTML document; links to the run's files are relative to
    ``out_dir`` (the folder the page goes to; default ``run_dir``)."""
    run = Path(run_dir)
    if not run.is_dir():
        raise InputError(run, "run folder not found")
    data, errors = _read_all(run.resolve())
    ctx = Context(run.resolve(), Path(out_dir or run).resolve(), config or ReportConfig(), data)
    body = []
    for anchor, title, _, render, stages in SECTIONS:
        failed = [errors[s] for s in stages if s in errors]
        if failed:
            body.append(_error_section(anchor, title, failed))
            continue
        try:
            body.append(tag("section", join([tag("h2", title), *render(ctx)]), id=anchor))
        except READ_ERRORS as error:
            log.warning("report: section %r: %s", title, error)
            body.append(_error_section(anchor, title, [error]))
    nav = [(anchor, short) for anchor, _, short, *_ in SECTIONS]
    written = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    header = join([tag("h1", TITLE), tag("p", join(["run ", code(ctx.run)])), tag("p", f"written {written}")])
    footer = join(["rfv report: everything on this page comes from the files of ", code(ctx.run)])
    return page(f"{TITLE}: {ctx.run.name}", header, nav, body, footer)


def write_report(run_dir: Path, out: Path | None = None, config: ReportConfig | None = None) -> Path:
    """Write the report of ``run_dir`` to ``out`` (default ``run_dir/report.html``) atomically; returns the
    path written."""
    out = Path(out) if out is not None else Path(run_dir) / REPORT_FILE
    document = build_report(run_dir, out.parent, config)
    with output_lock(out, is_file=True), atomic_write(out) as handle:
        handle.write(document)
    return out
