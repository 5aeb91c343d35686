"""The run report: one self-contained HTML page of a run folder (``rfv report RUN``; ``rfv run`` writes it
last with :func:`write_report`). See :mod:`reid_from_video.report.page`."""
