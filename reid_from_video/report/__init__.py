"""The run report: one self-contained HTML page of a run folder (``rfv report RUN``; ``rfv run`` writes it
last with :func:`write_report`). See :mod:`reid_from_video.report.page`."""

from reid_from_video.report.context import REPORT_FILE, ReportConfig
from reid_from_video.report.page import build_report, write_report

__all__ = ["REPORT_FILE", "ReportConfig", "build_report", "write_report"]
