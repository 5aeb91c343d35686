"""Do two output folders hold the same figures? Every JSON and CSV file under BEFORE is read with its
namesake under AFTER (or BEFORE and AFTER are two files), and their numbers (ints, floats, booleans) are
compared exactly, cell by cell; keys that name times, speeds, sizes, paths, versions or configs are left
out (they differ between runs by nature). Strings are not compared (they hold paths).

Used to show that a refactor kept every figure: run the demo or an example with the old and the new code
into two folders, then

    python tools/compare_figures.py OLD_OUT NEW_OUT

It prints one line per file (how many figures, how many differ, the first differences) and a total, and
exits 1 when a figure differs or a file is missing.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

# Key parts that are not figures of the result: times and speeds, sizes, paths, provenance, settings.
VOLATILE = re.compile(
    r"(second|time|_s$|^s$|fps|per_s|date|started|finished|elapsed|duration|wall|created|mtime"
    r"|path|file|folder|^out|root|cwd|host|version|pid|python|torch|key|fingerprint|config|command|argv"
    r"|^model$|weights|init|store|^data$|cameras$|video|^gt$|results|checkpoint|report|^run$|heldout"
    r"|^labels$|mib|bytes)",
    re.IGNORECASE,
)


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, leaf) of a JSON value; list items as key[i]."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, value


def figures(path: Path) -> dict[str, Any]:
    """The numbers of one JSON or CSV file by key (CSV: column[row])."""
    if path.suffix == ".json":
        leaves = dict(flatten(json.loads(path.read_text())))
    else:
        table = pd.read_csv(path)
        leaves = {f"{c}[{i}]": v for c in table.columns for i, v in enumerate(table[c].tolist())}
    return {
        key: value
        for key, value in leaves.items()
        if isinstance(value, (int, float, bool))
        and not any(VOLATILE.search(p) for p in re.split(r"[.\[\]]", key) if p and not p.isdigit())
    }


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare(before: Path, after: Path, shown: int = 8) -> int:
    """Print the comparison; the number of differing figures plus missing files. ``before`` and ``after``
    may also be two files."""
    if before.is_file():
        pairs = [(before, after)]
    else:
        found = sorted(p for p in before.rglob("*") if p.suffix in (".json", ".csv"))
        pairs = [(path, after / path.relative_to(before)) for path in found]
    total = wrong = 0
    for old_file, new_file in pairs:
        rel = old_file.relative_to(before) if old_file != before else old_file
        if not new_file.is_file():
            print(f"{rel}: missing in {after}")
            wrong += 1
            continue
        old, new = figures(old_file), figures(new_file)
        keys = sorted(old.keys() | new.keys())
        differ = [k for k in keys if k not in old or k not in new or not equal(old[k], new[k])]
        total += len(keys)
        wrong += len(differ)
        print(f"{str(rel):64s} {len(keys):7d} figures  {'same' if not differ else f'{len(differ)} differ'}")
        for key in differ[:shown]:
            print(f"    {key}: {old.get(key)!r} -> {new.get(key)!r}")
    print(f"{total} figures in {len(pairs)} files compared: {wrong} differ or missing")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    return 1 if compare(args.before, args.after) else 0


if __name__ == "__main__":
    sys.exit(main())
