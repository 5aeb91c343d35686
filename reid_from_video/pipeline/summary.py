"""The closing lines of ``rfv run``: the figures of every stage and where its files are, read with the
report's readers (:mod:`reid_from_video.report.sections`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reid_from_video.core.errors import InputError
from reid_from_video.report import sections


def format_summary(run: Path, record: dict[str, Any]) -> str:
    lines = [f"run {run}: camera folder {record['camera_folder']}"]
    for row in record["stages"]:
        figures = _figures(run, row["name"]) if row["status"] in ("done", "skipped") else ""
        lines.append(f"  {row['name']:9s} {row['status']:11s} {row['seconds']:7.1f} s  {figures}")
    return "\n".join(lines)


def _figures(run: Path, stage: str) -> str:
    try:
        if stage == "mot-eval":
            combined = sections.read_mot_eval(run)["summary"]["COMBINED"]  # type: ignore[index]
            clear, noise = combined["clear"], combined["noise"]
            return (
                f"MOTA {100 * clear['mota']:.1f}  IDF1 {100 * clear['idf1']:.1f}  "
                f"rFM {noise['rfm']:.2f}  rSW {noise['rsw']:.2f}"
            )
        if stage == "label":
            report = sections.read_label(run)["report"]  # type: ignore[index]
            text = f"{report['labels']} labels from {report['tracklets']} tracklets"
            quality = report.get("quality", {}).get("labels")
            if quality:
                text += f"  purity {quality['purity']:.3f}  ARI {quality['ari']:.3f}"
            return text
        if stage == "train":
            report = sections.read_train(run)["report"]  # type: ignore[index]
            before, after = report.get("before"), report.get("after")
            text = f"{report['epochs']} epochs, {report['images_per_s']:.0f} images/s"
            if before and after:
                text += (
                    f"  held-out mAP {before['mAP']:.1f} -> {after['mAP']:.1f}, "
                    f"rank-1 {before['rank1']:.1f} -> {after['rank1']:.1f} (untrained -> trained)"
                )
            return text
        if stage == "evaluate":
            result = sections.read_evaluate(run)["results"][sections.MAIN_RESULT]  # type: ignore[index]
            return f"mAP {100 * result['mAP']:.1f}  rank-1 {100 * result['rank1']:.1f}  ({result['source']})"
        if stage == "export":
            formats = sections.read_export(run)["summary"]["formats"]  # type: ignore[index]
            return ", ".join(
                f"{row['file']} (cosine {row['parity']['min_cosine']:.6f})" for row in formats.values()
            )
    except (InputError, KeyError, TypeError, ValueError):
        return ""  # a stage's own output said what it wrote; the summary only adds figures it can read
    return ""
