"""``identities.html`` of an ``rfv associate`` folder: each identity's appearances (crops from the store,
camera, frames), those seen in the most cameras first, and the transit times between cameras. One
self-contained page in the report's style, images embedded."""

from __future__ import annotations

from pathlib import Path

from reid_from_video.associate.result import AssociateResult
from reid_from_video.associate.run import JOURNEYS_FILE
from reid_from_video.core.atomic import atomic_write
from reid_from_video.report.config import MontageConfig
from reid_from_video.report.html import code, fmt, join, key_values, note, page, section, table, tag
from reid_from_video.report.labelling import label_group
from reid_from_video.report.montage import sample_tracklets
from reid_from_video.report.sections import read_table

PAGE_FILE = "identities.html"


def write_identities_page(folder: str | Path, identities: int, montage: MontageConfig | None = None) -> Path:
    """Write ``folder/identities.html`` for the association in ``folder``: up to ``identities`` of them."""
    folder = Path(folder)
    result = AssociateResult.read(folder)
    journeys = read_table(folder / JOURNEYS_FILE)
    m = montage or MontageConfig(labels=identities, tracklets=8, frames=3)
    labels = journeys[["camera", "track"]].assign(label=journeys["identity"])
    samples = sample_tracklets(Path(result.store), None, m, labels=labels)
    groups = [label_group(sample, m.height, noun="identity") for sample in samples]
    transits = [
        (t.source, t.target, t.journeys, fmt(t.median_s), fmt(t.min_s), fmt(t.max_s)) for t in result.transits
    ]
    body = [
        section(
            "summary",
            "Association",
            key_values(
                [
                    ("tracklets", f"{result.tracklets} in {result.cameras} cameras"),
                    ("identities", f"{result.identities}, {result.multi_camera} of them in several cameras"),
                    ("features", result.features),
                    ("link threshold", f"{result.threshold:.3f} ({result.threshold_source})"),
                    ("store", code(result.store)),
                    ("model", code(result.model)),
                ]
            ),
        ),
        section(
            "transits",
            "Between cameras",
            table(["from", "to", "identities", "median s", "least s", "most s"], transits, numeric_from=2)
            if transits
            else note("no identity was linked across cameras (or the store has no times)", "info"),
        ),
        section(
            "identities",
            "Identities",
            tag(
                "p",
                f"The {len(samples)} identities seen in the most cameras, then with the most tracklets; "
                f"up to {m.tracklets} tracklets each (other cameras first), {m.frames} crops per tracklet. "
                "Hover a crop for its file.",
            ),
            *groups,
        ),
    ]
    header = join([tag("h1", "rfv associate"), tag("p", result.summary())])
    nav = [("summary", "association"), ("transits", "between cameras"), ("identities", "identities")]
    html = page("rfv associate", header, nav, body, f"{folder / JOURNEYS_FILE}: every tracklet's identity")
    path = folder / PAGE_FILE
    with atomic_write(path) as handle:
        handle.write(html)
    return path
