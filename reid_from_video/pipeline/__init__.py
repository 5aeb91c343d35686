"""The whole job in one command: ``rfv run`` (camera folder -> deployable model) and ``rfv demo``.

The run layout, shared with the report, is :mod:`reid_from_video.core.layout`.
"""
