"""What ``rfv run`` and ``rfv demo`` do after the last stage: the report and the closing summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reid_from_video.pipeline.summary import format_summary


def finish_run(run: Path, record: dict[str, Any]) -> Path:
    """Write RUN/report.html, print the summary; the report's path."""
    from reid_from_video.report.page import write_report

    report = write_report(run)
    print("\n" + format_summary(run, record))
    print(f"\nreport: {report}\nconfig: {run / 'config.yaml'}")
    return report
