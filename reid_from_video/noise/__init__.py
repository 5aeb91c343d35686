"""Tracklet quality: MOT metrics, the TMC paper's rFM / rSW, and (later) the MARS noise simulator."""
