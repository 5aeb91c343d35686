"""MARS's numbering (see :mod:`reid_from_video.io.mars` for the layout): plain constants, no pandas, so a
config (the synthetic world's MARS export) can check against them without loading the reader."""

SPLITS = ("train", "test")
CAMERAS = range(1, 7)  # MARS was filmed by six cameras, numbered 1..6
JUNK_PID = 0
DISTRACTOR_PID = -1
