"""The whole job in one command: ``rfv run`` (camera folder -> deployable model) and ``rfv demo``.

The run layout, shared with the report (:mod:`reid_from_video.report`), which reads it without importing the
stages: ``RUN/<stage>/`` per stage in :data:`STAGE_NAMES` order, each with its ``stage.json`` (key, status,
seconds), and ``RUN/run.json`` (every stage's status and time).
"""

RUN_FILE = "run.json"
STAGE_FILE = "stage.json"
STAGE_NAMES = ("track", "mot-eval", "label", "train", "evaluate", "export")
