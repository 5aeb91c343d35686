"""The closing lines of ``rfv run``: the figures of every stage and where its files are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def format_summary(run: Path, record: dict[str, Any]) -> str:
    lines = [f"run {run}: camera folder {record['camera_folder']}"]
    for row in record["stages"]:
        figures = _figures(run, row["name"]) if row["status"] in ("done", "skipped") else ""
        lines.append(f"  {row['name']:9s} {row['status']:11s} {row['seconds']:7.1f} s  {figures}")
    return "\n".join(lines)


def _figures(run: Path, stage: str) -> str:
    folder = run / stage
    try:
        if stage == "mot-eval":
            combined = _json(folder / "summary.json")["COMBINED"]
            clear, noise = combined["clear"], combined["noise"]
            return (
                f"MOTA {100 * clear['mota']:.1f}  IDF1 {100 * clear['idf1']:.1f}  "
                f"rFM {noise['rfm']:.2f}  rSW {noise['rsw']:.2f}"
            )
        if stage == "label":
            report = _json(folder / "label_report.json")
            text = f"{report['labels']} labels from {report['tracklets']} tracklets"
            quality = report.get("quality", {}).get("labels")
            if quality:
                text += f"  purity {quality['purity']:.3f}  ARI {quality['ari']:.3f}"
            return text
        if stage == "train":
            report = _json(folder / "train_report.json")
            before, after = report.get("before"), report.get("after")
            text = f"{report['epochs']} epochs, {report['images_per_s']:.0f} images/s"
            if before and after:
                text += (
                    f"  held-out mAP {before['mAP']:.1f} -> {after['mAP']:.1f}, "
                    f"rank-1 {before['rank1']:.1f} -> {after['rank1']:.1f} (untrained -> trained)"
                )
            return text
        if stage == "evaluate":
            report = _json(folder / "evaluate.json")
            return f"mAP {100 * report['mAP']:.1f}  rank-1 {100 * report['rank1']:.1f}  ({report['source']})"
        if stage == "export":
            formats = _json(folder / "export.json")["formats"]
            return ", ".join(
                f"{row['file']} (cosine {row['parity']['min_cosine']:.6f})" for row in formats.values()
            )
    except (OSError, KeyError, TypeError, ValueError):
        return ""
    return ""


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
