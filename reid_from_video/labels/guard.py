"""The degenerate-label guard: labels too few to train on, or one label holding most of what was labelled
(a clustering whose eps swallowed everything), stop the label stage with the figures and the keys to change,
instead of a training run on nothing."""

from __future__ import annotations

import logging

import pandas as pd

from reid_from_video.core.errors import DegenerateLabelsError
from reid_from_video.labels.config import LabelConfig

log = logging.getLogger(__name__)

CLUSTER = "tmc.association.cluster."
SSTT = (
    "to sample more tracklets, sample more often or relax the spatial conflict rule",
    ("sstt.period_s", "sstt.min_distance", "sstt.conflict"),
)
# What to change, by method and problem: (advice, config keys relative to the label config).
ADVICE = {
    ("tmc", "few"): (
        "to cluster more, set a DBSCAN radius, raise the share of pairs it averages or lower min_samples",
        (f"{CLUSTER}eps", f"{CLUSTER}rho", f"{CLUSTER}min_samples"),
    ),
    ("tmc", "lopsided"): (
        "to split the largest cluster, set a smaller DBSCAN radius or lower the share of pairs it averages",
        (f"{CLUSTER}eps", f"{CLUSTER}rho"),
    ),
    ("sstt", "few"): SSTT,
    ("sstt", "lopsided"): SSTT,
}


def check_degenerate(labels: pd.DataFrame, units: int, tracklets: int, config: LabelConfig) -> None:
    """Raise :class:`DegenerateLabelsError` (or log a warning with ``on_degenerate: warn``) when the
    ``labels`` table (one row per labelled unit: a sub-tracklet, or a sampled tracklet) of ``units``
    units from ``tracklets`` tracklets has fewer than ``min_labels`` labels, or its largest label holds
    more than ``max_label_share`` of the labelled units."""
    sizes = labels["label"].value_counts()
    share = float(sizes.max() / len(labels)) if len(labels) else 0.0
    lopsided = share > config.max_label_share
    if len(sizes) >= config.min_labels and not lopsided:
        return
    unit = "sub-tracklets" if config.method == "tmc" else "sampled tracklets"
    figures = (
        f"{config.method}: {len(sizes)} label(s) from {units} {unit} of {tracklets} tracklets, "
        f"{len(labels)} labelled, the largest label holding {100 * share:.0f}% of them "
        f"(need >= {config.min_labels} labels, none over {100 * config.max_label_share:.0f}%)"
    )
    # One label swallowing most units calls for a smaller radius; labels from a few units, for a larger one.
    swallowed = lopsided and len(labels) > units / 2
    advice, keys = ADVICE[(config.method, "lopsided" if swallowed else "few")]
    error = DegenerateLabelsError(figures, advice, keys)
    if config.on_degenerate == "error":
        raise error
    log.warning("%s (on_degenerate=warn: written anyway)", error.problem())
