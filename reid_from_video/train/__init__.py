"""Training re-ID networks from tracklet labels: TAUDL (per-camera branches + CCTA) and TMC (mean teacher
with per-epoch re-association), one loop (AMP, DDP, checkpoint/resume, evaluation hook, logs)."""
