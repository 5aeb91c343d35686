"""The report section of the associate stage: what ``rfv associate`` linked across cameras (associate.json),
the transit times between cameras, and a link to the page of identities (identities.html)."""

from __future__ import annotations

from typing import Any

from reid_from_video.report.context import Context
from reid_from_video.report.html import fmt, join, key_values, note, table, tag


def render_associate(ctx: Context) -> list[Any]:
    stage = ctx.associate
    if stage is None:
        return [ctx.absent("associate", "no association of the cameras' tracklets into identities")]
    result = stage.result
    if result is None:
        return [note(f"{stage.folder / 'associate.json'} not found: the association did not finish")]
    out: list[Any] = [
        key_values(
            [
                (
                    "identities",
                    f"{result.identities} from {result.tracklets} tracklets of {result.cameras} cameras",
                ),
                ("in several cameras", result.multi_camera),
                ("link threshold", f"{result.threshold:.3f} ({result.threshold_source})"),
                ("features", result.features),
                ("journeys", ctx.where(stage.folder / "journeys.csv")),
            ]
        )
    ]
    if result.transits:
        rows = [
            (t.source, t.target, t.journeys, fmt(t.median_s), fmt(t.min_s), fmt(t.max_s))
            for t in result.transits
        ]
        out.append(table(["from", "to", "identities", "median s", "least s", "most s"], rows, numeric_from=2))
    if stage.page:
        page = ctx.where(stage.folder / "identities.html")
        out.append(tag("p", join(["Each identity's tracklets, with crops: ", page])))
    return out
