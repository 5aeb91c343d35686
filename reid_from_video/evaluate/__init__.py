"""Re-ID evaluation: tracklet features, query/gallery protocols (MARS's official one), CMC and mAP."""
