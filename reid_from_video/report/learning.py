"""Report sections of the learned model: training curves (train/), and the CMC curve and mAP / rank-1
against the untrained network (train/epochs.csv epoch 0, evaluate/evaluate.json)."""

from __future__ import annotations

from typing import Any

from reid_from_video.evaluate.result import EvaluateResult
from reid_from_video.report import charts
from reid_from_video.report.context import Context
from reid_from_video.report.html import (
    DASH,
    Raw,
    card,
    change,
    count,
    figures,
    fmt,
    image,
    join,
    key_values,
    note,
    number,
    seconds,
    table,
    tag,
)
from reid_from_video.report.sections import MAIN_RESULT, Row, TrainStage
from reid_from_video.train.result import UNTRAINED

CMC_RANKS = 20
RANKS = (1, 5, 10, CMC_RANKS)


def before_after(train: TrainStage | None) -> tuple[Row | None, Row | None]:
    """The evaluated rows of train/epochs.csv of epoch 0 (the start network) and of the last epoch, in %;
    the first is None unless the start was scored (``eval.before``) and a later epoch too."""
    epochs = (train.epochs if train is not None else None) or []
    evaluated = [r for r in epochs if number(r.get("mAP")) is not None]
    if not evaluated:
        return None, None
    first = evaluated[0]
    started = len(evaluated) > 1 and number(first.get("epoch")) == 0
    return (first if started else None), evaluated[-1]


def start_names(train: TrainStage | None) -> tuple[str, str]:
    """What epoch 0 and the result are called: ("untrained", "trained"), or ("pretrained", "adapted") when
    training started from a pretrained network (train_report.json's start)."""
    result = train.result if train is not None else None
    return (result.start, result.outcome) if result is not None else (UNTRAINED, "trained")


def improvement_cards(before: Row, after: Row, names: tuple[str, str]) -> list[Raw]:
    """mAP and rank-1, untrained -> trained (or pretrained -> adapted), with the change in points."""
    cards = []
    for key, name in (("mAP", "mAP %"), ("rank1", "rank-1 %")):
        b, a = number(before.get(key)), number(after.get(key))
        title = f"{name}, {names[0]} \u2192 {names[1]}"
        cards.append(card(title, f"{fmt(b)} \u2192 {fmt(a)}", change(b, a)))
    return cards


def _numeric_columns(rows: list[Row], prefix: str = "") -> list[str]:
    """Columns starting with ``prefix`` with a number in some row (epoch, step and lr left out)."""
    columns = dict.fromkeys(k for row in rows for k in row if k.startswith(prefix))
    skip = ("epoch", "step", "lr")
    return [c for c in columns if c not in skip and any(number(r.get(c)) is not None for r in rows)]


def _series(rows: list[Row], key: str, name: str, **style: Any) -> charts.Series:
    points = [(r["epoch"], number(r.get(key))) for r in rows if number(r.get(key)) is not None]
    return charts.Series(name, [x for x, _ in points], [y for _, y in points], **style)


def _step_chart(steps: list[Row]) -> Raw:
    x = list(range(1, len(steps) + 1))
    boundaries = [i + 0.5 for i in range(1, len(steps)) if steps[i].get("epoch") != steps[i - 1].get("epoch")]

    def values(column: str) -> list[float]:
        return [v if (v := number(s.get(column))) is not None else float("nan") for s in steps]

    terms = [c for c in _numeric_columns(steps) if c != "loss"]
    series = [charts.Series("loss", x, values("loss"), width=2.0)]
    series += [charts.Series(t, x, values(t), width=0.8) for t in terms]
    title = "loss per batch" + (" (dotted: epoch boundaries)" if boundaries else "")
    return image(charts.line_chart(series, title, "batch", "loss", vlines=boundaries), "loss per batch")


def _epoch_table(epochs: list[Row]) -> Raw:
    columns = [
        ("epoch", "epoch", 0),
        ("loss_loss", "loss", 4),
        ("mAP", "mAP %", 1),
        ("rank1", "rank-1 %", 1),
        ("rank5", "rank-5 %", 1),
        ("rank10", "rank-10 %", 1),
        ("lr", "lr", None),
        ("seconds", "time (s)", 1),
        ("images_per_s", "images/s", 0),
        ("assoc_labels", "labels (association)", 0),
    ]
    present = [c for c in columns if any(c[0] in r for r in epochs)]

    def cell(row: Row, key: str, digits: int | None) -> str:
        value = number(row.get(key))
        return DASH if value is None else f"{value:g}" if digits is None else fmt(value, digits)

    rows = [[cell(r, key, digits) for key, _, digits in present] for r in epochs]
    return table([name for _, name, _ in present], rows, numeric_from=0)


def render_training(ctx: Context) -> list[Any]:
    """train/: train_report.json, the loss per batch (steps.csv) and per epoch, mAP / rank-1 per epoch
    (epochs.csv), the table of epochs."""
    train = ctx.train
    if train is None:
        return [ctx.absent("train", "no training (rfv train) in this run")]
    folder, report, epochs, steps = train.folder, train.result, train.epochs, train.steps
    if report is None and not epochs and not steps:
        return [note(f"nothing in {folder} yet: training has not finished an epoch, or was stopped before")]
    out: list[Any] = []
    if report is None:
        out.append(note(f"{folder / 'train_report.json'} not found: training did not finish (curves so far)"))
    else:
        sizes = " / ".join(count(n) for n in (report.frames, report.units, report.cameras))
        out.append(
            key_values(
                [
                    ("method", report.method),
                    ("data", report.data),
                    ("images / tracklets / cameras", sizes),
                    ("device", f"{report.device} ({count(report.processes)} process(es))"),
                    ("epochs", count(report.epochs)),
                    ("time", seconds(report.seconds)),
                    ("images / s", fmt(report.images_per_s, 0)),
                    ("final loss", fmt(report.final_loss, 4)),
                ]
            )
        )
    plots = [_step_chart(steps)] if steps else []
    trained = [r for r in epochs or [] if (number(r.get("epoch")) or 0) > 0]
    losses = sorted(_numeric_columns(trained, "loss_"), key=lambda c: c != "loss_loss")  # the total first
    if losses:
        series = [
            _series(
                trained,
                c,
                "loss" if c == "loss_loss" else c.removeprefix("loss_"),
                marker="o",
                width=2.2 if c == "loss_loss" else 1.0,
            )
            for c in losses
        ]
        plots.append(
            image(charts.line_chart(series, "mean loss per epoch", "epoch", "loss"), "loss per epoch")
        )
    evaluated = [r for r in epochs or [] if number(r.get("mAP")) is not None]
    if evaluated:
        series = [
            _series(evaluated, "mAP", "mAP", marker="o"),
            _series(evaluated, "rank1", "rank-1", marker="o"),
        ]
        title = f"evaluation per epoch (0: {start_names(ctx.train)[0]})"
        chart = charts.line_chart(series, title, "epoch", "%", ylim=(0, 102))
        plots.append(image(chart, "mAP and rank-1 per epoch"))
    if plots:
        out.append(figures(*plots))
    else:
        out.append(note(f"no epochs.csv or steps.csv in {folder}: no training curves"))
    if epochs:
        out += [tag("h3", "Epochs"), _epoch_table(epochs)]
    names = ("model.pt", "epochs.csv", "steps.csv", "train_report.json")
    out.append(key_values([(n, ctx.where(folder / n)) for n in names if (folder / n).is_file()]))
    return out


def _rank(result: EvaluateResult, k: int) -> float | None:
    """The CMC at rank ``k`` (a fraction): as reported, or from the curve for a rank the config left out."""
    value = result.rank(k)
    return result.cmc[k - 1] if value is None and len(result.cmc) >= k else value


def _result_row(name: str, result: EvaluateResult) -> list[Any]:
    """A row of the comparison table from an evaluate.json (fractions: shown in %)."""
    folder = "evaluate" if name == MAIN_RESULT else f"evaluate/{name}"
    where = f"rfv evaluate ({folder}/evaluate.json)"
    ranks = [_rank(result, k) for k in RANKS]
    return [name, where, fmt(100 * result.mAP), *(fmt(None if v is None else 100 * v) for v in ranks)]


def _cmc_chart(
    results: dict[str, EvaluateResult], before: Row | None, after: Row | None, names: tuple[str, str]
) -> Raw | None:
    curves = [
        charts.Series(
            name,
            list(range(1, len(r.cmc[:CMC_RANKS]) + 1)),
            [100 * v for v in r.cmc[:CMC_RANKS]],
            marker="o",
        )
        for name, r in results.items()
        if r.cmc
    ]
    for name, row in (
        (f"{names[0]} (training's evaluation)", before),
        (f"{names[1]} (training's evaluation)", after),
    ):
        points = [(k, number(row.get(f"rank{k}"))) for k in RANKS] if row else []
        points = [(k, v) for k, v in points if v is not None]
        if points:
            style = {"style": "--", "marker": "s", "width": 1.0}
            curves.append(charts.Series(name, [k for k, _ in points], [v for _, v in points], **style))
    if not curves:
        return None
    chart = charts.line_chart(curves, f"CMC, ranks 1-{CMC_RANKS}", "rank", "matching rate (%)", ylim=(0, 102))
    return image(chart, "CMC curve")


def _comparison_chart(
    results: dict[str, EvaluateResult], before: Row | None, after: Row | None, names: tuple[str, str]
) -> Raw | None:
    keys = ["mAP", "rank1", "rank5", "rank10"]
    series: dict[str, list[float | None]] = {}
    if before is not None and after is not None:
        series[names[0]] = [number(before.get(k)) for k in keys]
        series[names[1]] = [number(after.get(k)) for k in keys]
    if (main := results.get(MAIN_RESULT)) is not None:
        scaled = [main.mAP, *(main.rank(k) for k in (1, 5, 10))]
        series[f"{names[1]} (rfv evaluate)"] = [None if v is None else 100 * v for v in scaled]
    if not series:
        return None
    chart = charts.grouped_bars(
        ["mAP", "rank-1", "rank-5", "rank-10"], series, f"{names[0]} against {names[1]}", "%"
    )
    return image(chart, f"mAP and rank-1, {names[0]} against {names[1]}")


def render_evaluation(ctx: Context) -> list[Any]:
    """The learned model against the untrained network: train/epochs.csv's first and last evaluations
    (epoch 0 = untrained) and evaluate/evaluate.json (mAP, ranks, the CMC curve)."""
    before, after = before_after(ctx.train)
    names = start_names(ctx.train)
    evaluate = ctx.evaluate
    results = evaluate.results if evaluate is not None else {}
    if after is None and not results:
        if evaluate is None:
            return [ctx.absent("evaluate", "the model was not evaluated, and training logged no evaluation")]
        return [note(f"no evaluate.json in {evaluate.folder}, and training logged no evaluation")]
    out: list[Any] = []
    rows = []
    if before is not None and after is not None:
        out.append(tag("div", join(improvement_cards(before, after, names)), class_="cards"))
    for name, row in ((f"{names[0]} network", before), (names[1], after)):
        if row is not None:
            values = (fmt(number(row.get(k))) for k in ("mAP", *(f"rank{r}" for r in RANKS)))
            where = "training's evaluation (train/epochs.csv)"
            rows.append([f"{name} (epoch {fmt(row['epoch'], 0)})", where, *values])
    rows += [_result_row(name, result) for name, result in results.items()]
    out.append(
        table(["model", "measured by", "mAP %", *(f"rank-{k} %" for k in RANKS)], rows, numeric_from=2)
    )
    made = (_cmc_chart(results, before, after, names), _comparison_chart(results, before, after, names))
    plots = [p for p in made if p]
    out.append(figures(*plots))
    for name, result in results.items():
        queries = f"{count(result.queries)} ({count(result.valid_queries)} valid)"
        out.append(tag("h3", f"{name}: evaluation data"))
        out.append(
            key_values(
                [
                    ("data", result.source),
                    ("queries", queries),
                    ("gallery tracklets", count(result.gallery)),
                    ("distance", result.metric),
                    ("model", result.model or DASH),
                ]
            )
        )
    if after is not None:
        out.append(
            note(
                "training's evaluation: rfv train's eval.data set, every eval.every epochs (epoch 0: the "
                "network before training); rfv evaluate: the evaluate stage on the final model.",
                "info",
            )
        )
    return out
