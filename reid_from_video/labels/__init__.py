"""Training labels from tracklets: TAUDL's SSTT sampling, TMC's isolation + association."""
