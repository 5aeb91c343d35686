"""Readers and writers: camera video, MOTChallenge files, the MARS layout and the tracklet store."""
