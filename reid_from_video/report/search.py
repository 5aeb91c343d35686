"""``search.html`` of an ``rfv search`` folder: the query crops, then the ranked tracklets (a few crops each,
rank, distance, camera, frames and time). One self-contained page in the report's style, images embedded."""

from __future__ import annotations

from pathlib import Path

from reid_from_video.associate.search import RANKING_FILE, SearchResult
from reid_from_video.core.atomic import atomic_write
from reid_from_video.io.store import TrackletStore
from reid_from_video.report.html import Raw, code, image, join, key_values, page, section, tag
from reid_from_video.report.montage import crop_uri, spread
from reid_from_video.report.sections import read_table

PAGE_FILE = "search.html"
HEIGHT = 96


def write_search_page(folder: str | Path, crops_per_tracklet: int = 3) -> Path:
    """Write ``folder/search.html`` for the search in ``folder``."""
    folder = Path(folder)
    result = SearchResult.read(folder)
    ranking = read_table(folder / RANKING_FILE)
    store = TrackletStore(result.store)
    index = store.read_index()
    query = [_crop(Path(q), q) for q in result.queries]
    items = []
    for row in ranking.itertuples():
        mine = (index["camera"] == str(row.camera)) & (index["track"] == row.track)
        frames = index[mine].sort_values("frame")
        chosen = frames.iloc[spread(len(frames), crops_per_tracklet)]
        crops = [_crop(store.resolve(str(p)), str(p)) for p in dict.fromkeys(chosen["path"])]
        caption = join(
            [
                tag("b", f"#{row.rank} \u00b7 {row.distance:.3f}"),
                Raw("<br>"),
                f"{row.camera} \u00b7 track {row.track}",
                Raw("<br>"),
                f"frames {row.first_frame}\u2013{row.last_frame} ({row.first_s:.1f}\u2013{row.last_s:.1f} s)",
            ]
        )
        content = join([tag("div", join(crops), class_="crops"), tag("div", caption, class_="caption")])
        items.append(tag("div", content, class_="tracklet"))
    body = [
        section(
            "query",
            "Query",
            key_values(
                [("crops", len(result.queries)), ("model", code(result.model)), ("features", result.features)]
            ),
            tag("div", join(query), class_="crops"),
        ),
        section(
            "results",
            f"The {len(items)} nearest of {result.tracklets} tracklets",
            tag("div", join(items), class_="tracklets"),
        ),
    ]
    header = join([tag("h1", "rfv search"), tag("p", result.summary())])
    html = page("rfv search", header, [("query", "query"), ("results", "results")], body, code(result.store))
    path = folder / PAGE_FILE
    with atomic_write(path) as handle:
        handle.write(html)
    return path


def _crop(path: Path, name: str) -> Raw:
    uri = crop_uri(path, HEIGHT)
    if uri is None:
        return tag("span", "unreadable", class_="unreadable", title=name, style=f"height:{HEIGHT}px")
    return image(uri, name, name, "crop", style=f"height:{HEIGHT}px")
