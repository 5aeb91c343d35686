"""The papers' loss settings: plain numbers (no torch), so the train config can default to them."""

# The label smoothing epsilon of the re-ID bag of tricks and MMT's CrossEntropyLabelSmooth.
REID_LABEL_SMOOTHING = 0.1

# TMC's triplet margin m (section 3.3, eq. (3)).
TMC_MARGIN = 0.5

# TAUDL's settings (section 4, implementation details).
TAUDL_LAMBDA = 0.7
TAUDL_SIGMA = 2.0
