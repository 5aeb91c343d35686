"""``rfv report``: one self-contained HTML page of a run folder (``rfv run``'s, or stage folders by hand)."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.commands.registry import command
from reid_from_video.report.config import REPORT_FILE, ReportConfig


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run",
        type=Path,
        help="a run folder: track/, mot-eval/, label/, train/, evaluate/, export/ (any may be absent) and "
        "run.json",
    )
    parser.add_argument("--out", type=Path, help=f"the HTML file to write (default RUN/{REPORT_FILE})")


@command(
    "report",
    help="one HTML page of a run: MOT metrics, rFM/rSW, label quality, training curves, CMC, mAP, crops",
    description="Read what the stages wrote under RUN (each stage folder as its own command writes it with "
    "--out RUN/<stage>) and write one self-contained HTML page (charts and crops embedded, nothing fetched "
    "from the network): the run summary with each stage's status and time, MOT metrics and rFM / rSW per "
    "camera (when mot-eval ran), label quality, training curves, the CMC curve and mAP / rank-1 of the "
    "learned model against the untrained network, the exported model card and a montage of sample "
    "tracklets per label. Absent stages are reported as absent.",
    config=ReportConfig,
    add_arguments=_report_arguments,
    out_is_file=True,
)
def _run_report(args: argparse.Namespace, config: ReportConfig) -> None:
    from reid_from_video.report.page import write_report

    path = write_report(args.run, args.out, config)
    print(f"wrote {path}")
