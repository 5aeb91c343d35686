"""``rfv search``: a store's tracklets ranked for a query person."""

from __future__ import annotations

import argparse
from pathlib import Path

from reid_from_video.associate.config import SearchConfig
from reid_from_video.commands.registry import command


def _search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", type=Path, help="a tracklet store (rfv track), or an rfv run folder")
    parser.add_argument(
        "--query", nargs="+", required=True, help="crops of the person: image files or folders of them"
    )
    parser.add_argument(
        "--model", required=True, help="ONNX, TorchScript, rfv train's model.pt, or 'histogram' (no model)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for ranking.csv and search.html")


@command(
    "search",
    help="rank a store's tracklets for a query person (where was this person seen?)",
    description="The query is the mean feature of its crops, each tracklet the mean of a few of its crops "
    "(the features rfv track stored are reused when the same model made them); tracklets are ranked by "
    "cosine distance. Writes ranking.csv (rank, distance, camera, track, first / last frame and time), "
    "search.json and search.html (the query and the ranked tracklets' crops).",
    config=SearchConfig,
    add_arguments=_search_arguments,
)
def _run_search(args: argparse.Namespace, config: SearchConfig) -> None:
    from reid_from_video.associate.search import RANKING_FILE, run_search
    from reid_from_video.report.search import write_search_page

    result = run_search(args.store, args.query, args.out, config, args.model)
    page = write_search_page(args.out)
    print(f"{result.summary()}; {args.out / RANKING_FILE}, {page}")
