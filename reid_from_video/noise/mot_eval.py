"""``rfv mot-eval``: how good, and how noisy, a tracker's tracklets are against MOTChallenge ground truth.

For every sequence, and combined over all of them:

- CLEAR MOT (MOTA, MOTP, FP, FN, IDSW, Frag) and MT/PT/ML as MOTChallenge's official evaluator (TrackEval)
  counts them (:mod:`reid_from_video.noise.clear_motchallenge`), or with ``clear=motmetrics`` as motmetrics
  does; identity (IDF1, IDP, IDR), computed by motmetrics from an event table built by
  :mod:`reid_from_video.noise.clear` (equal to TrackEval's);
- HOTA, DetA, AssA (:mod:`reid_from_video.noise.hota`, TrackEval's definition);
- the TMC paper's tracklet noise: rFM, rSW and their histograms (:mod:`reid_from_video.noise.rfm_rsw`).

Scored boxes follow the MOTChallenge preprocessing (:mod:`reid_from_video.noise.preprocess`), unless
``preprocess=false``; ``min_visibility`` (off by default) turns gt boxes seen less than that into
distractors first, e.g. the fully occluded people of a synthetic world. MOTP is reported as MOTChallenge
and TrackEval do: the mean IoU of matched pairs (motmetrics' own ``motp`` is the mean distance, 1 - IoU).
Combined CLEAR figures are the summed counts (TrackEval's combination; motmetrics' ``OVERALL`` with
``clear=motmetrics``), combined identity figures motmetrics' ``OVERALL`` (events of all sequences pooled);
combined rFM / rSW count identities and tracklets per sequence; combined HOTA is TrackEval's combination.

Input problems that do not make the result wrong are warnings, counted in the output: result files
missing for some ground-truth sequences (those are not evaluated) or having no ground truth (ignored), empty
result files (scored as a tracker that output nothing), boxes of non-positive size and boxes in frames
outside the sequence (both dropped). A malformed line, or one id twice in a frame, is an error.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from reid_from_video.core.atomic import atomic_write, json_ready
from reid_from_video.core.config import save_config
from reid_from_video.core.errors import InputError
from reid_from_video.core.lock import output_lock
from reid_from_video.io.mot import find_sequences, read_mot, read_seqinfo
from reid_from_video.noise import hota as hota_metric
from reid_from_video.noise import rfm_rsw
from reid_from_video.noise.clear import clear_metrics, motmetrics_events
from reid_from_video.noise.clear_motchallenge import ClearCounts, clear_counts
from reid_from_video.noise.config import MotEvalConfig
from reid_from_video.noise.cross_camera import cross_camera_scores
from reid_from_video.noise.preprocess import occluded_as_distractors, scored_boxes
from reid_from_video.noise.result import COMBINED, MotEvalResult

log = logging.getLogger(__name__)


@dataclass
class Sequence:
    """One sequence to evaluate: its files and tables, after input checks."""

    name: str
    gt_file: Path
    result_file: Path
    gt: pd.DataFrame
    result: pd.DataFrame
    warnings: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ inputs


def _gt_files(gt_path: Path) -> tuple[dict[str, tuple[Path, Path | None]], dict[str, Path]]:
    """name -> (gt file, seqinfo.ini or None), and name -> folder of the sequences without gt (a test split's
    folders, or a tree being filled in)."""
    if gt_path.is_file():
        folder = gt_path.parent.parent if gt_path.parent.name == "gt" else gt_path.parent
        seqinfo = folder / "seqinfo.ini"
        name = folder.name if gt_path.parent.name == "gt" else gt_path.stem
        return {name: (gt_path, seqinfo if seqinfo.is_file() else None)}, {}
    files, without = {}, {}
    for name, folder in find_sequences(gt_path).items():
        gt_file = folder / "gt" / "gt.txt"
        if not gt_file.is_file():
            without[name] = folder
            continue
        seqinfo = folder / "seqinfo.ini"
        files[name] = (gt_file, seqinfo if seqinfo.is_file() else None)
    return files, without


def _result_files(results_path: Path) -> dict[str, Path]:
    if results_path.is_file():
        return {results_path.stem: results_path}
    if not results_path.is_dir():
        raise InputError(results_path, "no such file or folder")
    files = {p.stem: p for p in sorted(results_path.glob("*.txt")) if not p.name.startswith(".")}
    if not files:
        raise InputError(results_path, "no tracker result files (*.txt) in this folder")
    return files


def pair_inputs(
    gt_path: str | Path, results_path: str | Path, seqs: list[str] | None = None
) -> tuple[dict[str, tuple[Path, Path | None, Path]], list[str]]:
    """name -> (gt file, seqinfo or None, result file) for the sequences to evaluate, and warnings.

    A single gt file and a single result file are paired whatever their names.
    """
    gt_path, results_path = Path(gt_path), Path(results_path)
    if not gt_path.exists():
        raise InputError(gt_path, "no such file or folder")
    gts, without_gt = _gt_files(gt_path)
    results = _result_files(results_path)
    if gt_path.is_file() and results_path.is_file():
        (name, (gt_file, seqinfo)), result = next(iter(gts.items())), next(iter(results.values()))
        return {name: (gt_file, seqinfo, result)}, []
    warnings = []
    if seqs:
        if no_gt := [s for s in seqs if s in without_gt]:
            raise InputError(without_gt[no_gt[0]], "sequence folder without gt/gt.txt")
        unknown = [s for s in seqs if s not in gts]
        if unknown:
            raise InputError(gt_path, f"no ground truth for {unknown}; sequences here: {sorted(gts)}")
        missing = [s for s in seqs if s not in results]
        if missing:
            raise InputError(results_path, f"no result file for requested sequences {missing}")
        names = list(seqs)
    else:
        names = sorted(gts.keys() & results.keys())
        if not names:
            raise InputError(
                results_path,
                f"no result file is named after a gt sequence ({sorted(gts)[:5]}...) as <seq>.txt",
            )
        if missing := sorted(gts.keys() - results.keys()):
            warnings.append(
                f"{len(missing)} gt sequences have no result file and are not evaluated: {missing}"
            )
        if without := sorted(without_gt):
            warnings.append(f"{len(without)} sequence folders without gt/gt.txt are not evaluated: {without}")
    if extra := sorted(results.keys() - gts.keys()):
        warnings.append(f"{len(extra)} result files have no ground truth and are ignored: {extra}")
    return {n: (gts[n][0], gts[n][1], results[n]) for n in names}, warnings


def load_sequence(name: str, gt_file: Path, seqinfo: Path | None, result_file: Path) -> Sequence:
    """Read and check one sequence's files; dropped rows are counted in ``warnings``."""
    info = read_seqinfo(seqinfo) if seqinfo else None
    gt = read_mot(gt_file, kind="gt")
    result = read_mot(result_file, kind="result")
    warnings: dict[str, int] = {}
    if result.empty:
        warnings["empty_result_file"] = 1
        log.warning("%s: empty result file: scored as a tracker that output nothing", result_file)
    duplicated = result.duplicated(subset=["frame", "id"])
    if duplicated.any():
        frame, ident = (int(v) for v in result.loc[duplicated, ["frame", "id"]].iloc[0])
        raise InputError(result_file, f"track id {ident} appears twice in frame {frame}")
    bad_size = (result["w"] <= 0) | (result["h"] <= 0)
    if bad_size.any():
        warnings["non_positive_boxes_dropped"] = int(bad_size.sum())
        log.warning("%s: %d boxes with non-positive size dropped", result_file, bad_size.sum())
    outside = result["frame"] > info.seq_length if info else pd.Series(False, index=result.index)
    if outside.any():
        warnings["frames_outside_sequence_dropped"] = int(outside.sum())
        log.warning(
            "%s: %d boxes in frames after the sequence's last frame %d dropped",
            result_file, outside.sum(), info.seq_length,
        )  # fmt: skip
    result = result[~(bad_size | outside)].reset_index(drop=True)
    return Sequence(name, gt_file, result_file, gt, result, warnings)


# -------------------------------------------------------------------------------------------- evaluation


def _clear_row(row: pd.Series, counts: ClearCounts | None) -> dict[str, float]:
    """motmetrics' row (identity metrics, and CLEAR with ``clear=motmetrics``), its CLEAR fields replaced by
    TrackEval's ``counts`` where given."""
    values = {key: float(value) for key, value in row.items()}
    values["motp"] = 1.0 - values["motp"]  # motmetrics' mean distance -> mean IoU (NaN stays NaN)
    if counts is not None:
        values.update(counts.as_report())
    return values


def evaluate(
    sequences: list[Sequence], config: MotEvalConfig | None = None
) -> tuple[dict[str, Any], dict[str, rfm_rsw.NoiseRates]]:
    """Every metric per sequence and combined (see the module docstring).

    Returns the JSON-ready report and the noise rates per sequence and ``COMBINED`` (with their histograms).
    """
    config = config or MotEvalConfig()
    events, hotas, noise_parts, per_seq, rates_of, counts, network = {}, [], {}, {}, {}, {}, {}
    for seq in tqdm(sequences, desc="mot-eval", unit="seq", disable=len(sequences) < 2):
        gt = occluded_as_distractors(seq.gt, config.min_visibility)
        scored = scored_boxes(gt, seq.result, preprocess=config.preprocess, iou=config.iou)
        _check_unique_gt_ids(seq.gt_file, scored.gt)
        events[seq.name] = motmetrics_events(scored.gt, scored.result, iou=config.iou)
        if config.clear == "trackeval":
            counts[seq.name] = clear_counts(scored.gt, scored.result, iou=config.iou)
        if config.cross_camera != "off":
            network[seq.name] = (scored.gt, scored.result)
        rates, pairs = rfm_rsw.sequence_noise(gt, seq.result, iou=config.iou, min_frames=config.min_frames)
        noise_parts[seq.name] = (pairs, rates.tracklets, rates.gt_ids)
        rates_of[seq.name] = rates
        entry: dict[str, Any] = {
            "noise": rates.to_dict(),
            "input": {
                "gt_file": str(seq.gt_file), "result_file": str(seq.result_file),
                "distractor_matches_removed": scored.removed, "warnings": seq.warnings,
            },
        }  # fmt: skip
        if config.hota:
            result = hota_metric.hota(scored.gt, scored.result)
            hotas.append(result)
            entry["hota"] = result.summary()
        per_seq[seq.name] = entry
    table = clear_metrics(events)
    for name, entry in per_seq.items():
        entry["clear"] = _clear_row(table.loc[name], counts.get(name))
    rates_of[COMBINED] = rfm_rsw.combine(noise_parts, min_frames=config.min_frames)
    total = sum(counts.values(), ClearCounts()) if counts else None
    combined: dict[str, Any] = {
        "clear": _clear_row(table.loc["OVERALL"], total),
        "noise": rates_of[COMBINED].to_dict(),
    }
    if config.hota:
        combined["hota"] = hota_metric.combine_hota(hotas).summary()
    if network:
        mode = config.cross_camera
        scores = cross_camera_scores(network, mode, config.iou, config.min_frames)  # type: ignore[arg-type]
        combined["cross_camera"] = asdict(scores)
    return {"sequences": per_seq, COMBINED: combined}, rates_of


def _check_unique_gt_ids(gt_file: Path, gt: pd.DataFrame) -> None:
    """The gt boxes that are scored must give each id once per frame (TrackEval refuses the same)."""
    duplicated = gt.duplicated(subset=["frame", "id"])
    if duplicated.any():
        frame, ident = (int(v) for v in gt.loc[duplicated, ["frame", "id"]].iloc[0])
        raise InputError(gt_file, f"gt id {ident} occurs twice in frame {frame} among the boxes scored")


def score_mot(
    gt_path: str | Path, results_path: str | Path, config: MotEvalConfig | None = None
) -> tuple[MotEvalResult, dict[str, rfm_rsw.NoiseRates]]:
    """Pair inputs, check them, evaluate (:func:`evaluate`), writing nothing: the result and the noise
    rates (with their histograms) per sequence and ``COMBINED``."""
    config = config or MotEvalConfig()
    pairs, warnings = pair_inputs(gt_path, results_path, config.seqs or None)
    for message in warnings:
        log.warning(message)
    sequences = [load_sequence(name, *files) for name, files in pairs.items()]
    report, rates = evaluate(sequences, config)
    counts: dict[str, int] = {"sequence_warnings": len(warnings)}
    for seq in sequences:
        for key, value in seq.warnings.items():
            counts[key] = counts.get(key, 0) + value
    report.update(warnings=warnings, warning_counts=counts)
    return MotEvalResult.from_json(json_ready(report)), rates


def run_mot_eval(
    gt_path: str | Path, results_path: str | Path, out: str | Path | None, config: MotEvalConfig
) -> MotEvalResult:
    """``rfv mot-eval``: score ``results_path`` against ``gt_path`` and, with ``out``, write its folder
    (summary.json and .csv, q_histogram.json, histograms.png, config.yaml)."""
    result, rates = score_mot(gt_path, results_path, config)
    if out is not None:
        with output_lock(out):
            written = [*write_outputs(result, rates, out, plots=config.plots), save_config(config, Path(out))]
            log.info("wrote %s", ", ".join(map(str, written)))
    return result


# ---------------------------------------------------------------------------------------------- outputs

TABLE_COLUMNS = [  # (header, section, key, format)
    ("MOTA", "clear", "mota", "{:.1%}"), ("MOTP", "clear", "motp", "{:.1%}"),
    ("IDF1", "clear", "idf1", "{:.1%}"), ("IDP", "clear", "idp", "{:.1%}"),
    ("IDR", "clear", "idr", "{:.1%}"), ("HOTA", "hota", "HOTA", "{:.1%}"),
    ("DetA", "hota", "DetA", "{:.1%}"), ("AssA", "hota", "AssA", "{:.1%}"),
    ("FP", "clear", "num_false_positives", "{:.0f}"), ("FN", "clear", "num_misses", "{:.0f}"),
    ("IDSW", "clear", "num_switches", "{:.0f}"), ("Frag", "clear", "num_fragmentations", "{:.0f}"),
    ("MT", "clear", "mostly_tracked", "{:.0f}"), ("PT", "clear", "partially_tracked", "{:.0f}"),
    ("ML", "clear", "mostly_lost", "{:.0f}"), ("rFM", "noise", "rfm", "{:.3f}"),
    ("rSW", "noise", "rsw", "{:.3f}"), ("tracklets", "noise", "tracklets", "{:.0f}"),
    ("gt_ids", "noise", "gt_ids", "{:.0f}"),
]  # fmt: skip


def summary_frame(result: MotEvalResult) -> pd.DataFrame:
    """One row per sequence and a COMBINED row, the columns of :data:`TABLE_COLUMNS` (raw numbers)."""
    data = {
        name: {header: _or_nan(entry.value(section, key)) for header, section, key, _ in TABLE_COLUMNS}
        for name, entry in result.rows()
    }
    frame = pd.DataFrame.from_dict(data, orient="index")
    frame.index.name = "sequence"
    return frame


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def format_table(result: MotEvalResult) -> str:
    """The per-sequence table as fixed-width text, and the counted input warnings."""

    def cell(value: float | None, fmt: str) -> str:
        return "-" if value is None or math.isnan(value) else fmt.format(value)

    rows = [["sequence"] + [header for header, *_ in TABLE_COLUMNS]]
    for name, entry in result.rows():
        rows.append([name] + [cell(entry.value(sec, key), fmt) for _, sec, key, fmt in TABLE_COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = "\n".join(
        " ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )
    x = result.combined.cross_camera
    if x is not None:
        text += (
            f"\n\nacross cameras ({x.persons} persons, {x.identities} identities): IDF1 {x.idf1:.1%}, "
            f"IDP {x.idp:.1%}, IDR {x.idr:.1%}, rFM {cell(x.rfm, '{:.3f}')}, rSW {cell(x.rsw, '{:.3f}')}, "
            f"journeys right {x.journeys_right} of {x.journeys}"
        )
    counts = {k: v for k, v in result.warning_counts.items() if v}
    return text + (f"\n\nwarnings: {counts}" if counts else "")


def write_outputs(
    result: MotEvalResult, rates: dict[str, rfm_rsw.NoiseRates], out: str | Path, plots: bool = True
) -> list[Path]:
    """summary.json, summary.csv, q_histogram.json (the combined |Q_i| histogram, for the MARS simulator)
    and histograms.png into ``out``; every file written atomically. Returns the paths written."""
    out = Path(out)  # atomic_write creates it
    written = [result.write(out), out / "summary.csv"]
    with atomic_write(written[1]) as handle:
        summary_frame(result).to_csv(handle)
    if rates[COMBINED].q_histogram:
        written.append(out / "q_histogram.json")
        source = f"rfv mot-eval on {', '.join(result.sequences)}"
        rfm_rsw.save_q_histogram(written[-1], rates[COMBINED], source=source)
    if plots:
        written.append(out / "histograms.png")
        plot_histograms(rates, written[-1])
    return written


def plot_histograms(rates: dict[str, rfm_rsw.NoiseRates], path: Path) -> None:
    """One row per sequence (and COMBINED): the |Q_i| histogram and the tracklets-per-id histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rates), 2, figsize=(9, 2.4 * len(rates)), squeeze=False)
    for row, (name, r) in enumerate(rates.items()):
        for ax, histogram, label in (
            (axes[row][0], r.q_histogram, "|Q_i|: gt ids per tracklet"),
            (axes[row][1], r.fm_histogram, "tracklets per gt id"),
        ):
            ax.bar(list(histogram), list(histogram.values()), color="#4472c4")
            ax.set_xlabel(label)
            ax.set_ylabel("count")
            ax.set_xticks(list(histogram))
        axes[row][0].set_title(f"{name}: rSW {r.rsw:.3f}", fontsize=9, loc="left")
        axes[row][1].set_title(f"rFM {r.rfm:.3f}", fontsize=9, loc="left")
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=80)
    plt.close(fig)
