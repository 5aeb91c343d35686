"""``rfv report``: the HTML page of a run built from real stage outputs (a tiny synthetic world tracked,
scored, labelled, trained and evaluated here), the figures of every section, absent stages, unreadable
files, escaping, and no reference to anything outside the page."""

from __future__ import annotations

import json
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reid_from_video.cli import main
from reid_from_video.core.errors import InputError
from reid_from_video.report.config import REPORT_FILE
from reid_from_video.report.page import build_report, write_report

SECTIONS = (
    "summary", "track", "mot", "labels", "train", "evaluate", "export", "associate", "montage", "time"
)  # fmt: skip
# The synth tracking preset is set for 640x360; at half the size, areas and heights shrink (test_track_synth).
HALF_SIZE = ["detector.bg_min_area=40", "detector.bg_join_height=8", "detector.min_height=10"]
TINY_TRAIN = [
    "model.backbone=tiny", "model.weights=none", "model.input_size=[64, 32]", "data.workers=0", "threads=1",
    "progress=false", "epochs=2", "data.iters=2", "eval.every=1",
]  # fmt: skip
CLUSTER = ["tmc.association.cluster.rho=0.05", "tmc.association.cluster.min_samples=2"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The parsed report: every tag with its attributes, the text of each section, nesting checked."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.errors: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.current: str | None = None
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "section":
            self.current = str(attributes.get("id"))
            self.texts[self.current] = []
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.open[-1] if self.open else None}>")
            return
        self.open.pop()
        if tag == "section":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.texts[self.current].append(data)

    def text(self, section: str) -> str:
        return " ".join(" ".join(self.texts[section]).split())

    def images(self, class_: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "img" and (class_ is None or a.get("class") == class_)]

    def notes(self, kind: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "p" and a.get("class") == f"note {kind}"]


def parse(document: str) -> Page:
    page = Page(document)
    assert not page.errors and not page.open, (page.errors, page.open)
    return page


def _check_self_contained(page: Page) -> None:
    """Nothing fetched: no script, stylesheet link or frame; images are data: URIs (whose base64 may hold
    the letters "http" by chance); no http(s) in any other src or href."""
    names = {t for t, _ in page.tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}, names
    for tag, attributes in page.tags:
        for key in ("src", "href"):
            value = attributes.get(key) or ""
            if not (key == "src" and value.startswith("data:image/")):
                assert "http" not in value.lower(), (tag, value)
    assert all(str(a.get("src")).startswith("data:image/") for a in page.images())


def _timed(stages: list[dict], name: str, argv: list[str]) -> None:
    start = time.perf_counter()
    assert main(argv) == 0, argv
    stages.append({"name": name, "seconds": time.perf_counter() - start, "status": "done"})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, mars_world: Path) -> Path:
    """A run folder as ``rfv run`` lays it out, every stage folder written by that stage's own command on a
    tiny 3-camera synthetic world; run.json, as ``rfv run`` writes it, with the measured times."""
    root = tmp_path_factory.mktemp("report")
    world, run = mars_world, root / "run"
    stages: list[dict] = []
    track = ["track", str(world / "videos"), "--out", str(run / "track"), "-c", "synth", "save_crops=true"]
    _timed(stages, "track", [*track, "progress=false", *HALF_SIZE])
    _timed(
        stages,
        "mot-eval",
        ["mot-eval", str(world / "gt"), str(run / "track" / "mot"), "--out", str(run / "mot-eval")],
    )
    label = [
        "label",
        str(run / "track"),
        "--out",
        str(run / "label"),
        "-c",
        "tmc_mars",
        "--model",
        "histogram",
    ]
    _timed(stages, "label", [*label, "--gt", str(world / "gt"), *CLUSTER, "tmc.isolation.min_samples=2"])
    train = ["train", str(run / "track"), "--out", str(run / "train"), "--labels", str(run / "label")]
    _timed(stages, "train", [*train, "-c", "tmc_synth", *TINY_TRAIN, *CLUSTER, f"eval.data={world / 'mars'}"])
    _timed(stages, "evaluate", ["evaluate", str(world / "mars"), "--features", str(_features(run, world)),
                                "--out", str(run / "evaluate")])  # fmt: skip
    stages.append({"name": "export", "seconds": 0.0, "status": "not run"})
    (run / "config.yaml").write_text("track:\n  save_crops: true\n", encoding="utf-8")
    record = {
        "camera_folder": str(world / "videos"),
        "gt": str(world / "gt"),
        "eval_data": str(world / "mars"),
    }
    record.update(config=str(run / "config.yaml"), stages=stages)
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return run


def _features(run: Path, world: Path) -> Path:
    """The trained network's features of the world's MARS test tracklets (one row per tracklet), the input
    of ``rfv evaluate --features``."""
    import torch

    from reid_from_video.embed.features import pool_frames
    from reid_from_video.io.tracklets import load_tracklets
    from reid_from_video.models.reid_net import model_from_state
    from reid_from_video.train.features import embed_paths

    content = torch.load(run / "train" / "model.pt", map_location="cpu", weights_only=True)
    model = model_from_state(content["model"], content["state_dict"], classifier=False)
    tracklets = load_tracklets(world / "mars")
    chosen = [paths[:4] for paths in tracklets.paths]
    frames = embed_paths(model, [p for paths in chosen for p in paths], torch.device("cpu"))
    path = run.parent / "features.npy"
    np.save(path, pool_frames(frames, [len(c) for c in chosen]))
    return path


def test_every_section_shows_the_figures_of_its_stage_files(run_dir: Path) -> None:
    out = write_report(run_dir)
    assert out == run_dir / REPORT_FILE
    page = parse(out.read_text(encoding="utf-8"))
    _check_self_contained(page)
    assert [a.get("id") for t, a in page.tags if t == "section"] == list(SECTIONS)
    assert not page.notes("error")

    summary = page.text("summary")
    record = json.loads((run_dir / "run.json").read_text())
    for key in ("camera_folder", "gt", "eval_data"):
        assert record[key] in summary
    assert "pipeline config config.yaml" in summary
    for stage in ("track", "mot-eval", "label", "train", "evaluate"):
        assert f"{stage} done" in summary
    assert "export not run" in summary

    mot = json.loads((run_dir / "mot-eval" / "summary.json").read_text())
    text = page.text("mot")
    for entry in [*mot["sequences"].values(), mot["COMBINED"]]:
        assert f"{entry['clear']['mota']:.1%}" in text and f"{entry['hota']['HOTA']:.1%}" in text
        assert f"{entry['noise']['rfm']:.3f}" in text and f"{entry['noise']['rsw']:.3f}" in text
    assert f"{mot['COMBINED']['clear']['mota']:.1%}" in summary

    label = json.loads((run_dir / "label" / "label_report.json").read_text())
    text, scores = page.text("labels"), label["quality"]["labels"]
    assert f"labels {label['labels']}" in text
    assert f"{scores['purity']:.3f}" in text and f"{scores['ari']:.3f}" in text
    assert f"{label['quality']['after_isolation']['rsw']:.3f}" in text

    epochs = pd.read_csv(run_dir / "train" / "epochs.csv")
    before, after = epochs.iloc[0], epochs.iloc[-1]
    assert before["epoch"] == 0 and after["epoch"] == 2
    text = page.text("evaluate")
    for row in (before, after):
        assert f"{row['mAP']:.1f}" in text and f"{row['rank1']:.1f}" in text
    assert f"{before['mAP']:.1f} \u2192 {after['mAP']:.1f}" in summary
    evaluate = json.loads((run_dir / "evaluate" / "evaluate.json").read_text())
    assert f"{100 * evaluate['mAP']:.1f}" in text and f"{100 * evaluate['rank20']:.1f}" in text
    alts = {a.get("alt") for a in page.images()}
    assert {"CMC curve", "loss per batch", "loss per epoch", "mAP and rank-1 per epoch"} <= alts
    assert f"{after['loss_loss']:.4f}" in page.text("train")

    assert "export/ is absent" in page.text("export")
    seconds = {s["name"]: s["seconds"] for s in json.loads((run_dir / "run.json").read_text())["stages"]}
    assert f"{seconds['track']:.1f} s" in page.text("time")


def test_the_montage_shows_crops_of_the_labelled_tracklets_with_their_paths(run_dir: Path) -> None:
    page = parse(build_report(run_dir))
    crops = page.images("crop")
    index = pd.read_csv(run_dir / "track" / "index.csv")
    labels = pd.read_csv(run_dir / "label" / "labels.csv")
    text = page.text("montage")
    groups = re.findall(r"label (\d+): (\d+) sub-tracklets? in (\d+) cameras?", text)
    assert len(groups) == min(6, labels["label"].nunique())
    for label, units, _ in groups:
        assert int(units) == (labels["label"] == int(label)).sum()
    # up to 4 crops per tracklet: all of a short one
    frames = [int(n) for n in re.findall(r"(\d+) frames \(", text)]
    assert len(crops) == sum(min(4, n) for n in frames) > 0
    paths = set(index["path"])
    for crop in crops:
        path = str(crop["title"]).split(" (frame")[0]
        assert path in paths and (run_dir / "track" / path).is_file()


def test_absent_stages_are_said_to_be_absent(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir / "track", run / "track")  # tracked by hand: no run.json, nothing after
    page = parse(build_report(run))
    _check_self_contained(page)
    for section, stage in (("mot", "mot-eval"), ("labels", "label"), ("train", "train"),
                           ("evaluate", "evaluate"), ("export", "export")):  # fmt: skip
        assert f"{stage}/ is absent" in page.text(section), section
    assert "track present" in page.text("summary") and "run.json absent" in page.text("summary")
    assert "No labels in this run" in page.text("montage") and page.images("crop")
    totals = json.loads((run / "track" / "summary.json").read_text())["totals"]
    assert f"{totals['seconds']:.1f} s" in page.text("time")
    empty = tmp_path / "empty"
    empty.mkdir()
    page = parse(build_report(empty))
    assert not page.images("crop") and "track/ is absent" in page.text("track")
    with pytest.raises(InputError, match="run folder not found"):
        build_report(tmp_path / "nowhere")


def test_an_unreadable_file_is_named_in_its_section_and_the_rest_is_written(
    run_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    for stage in ("track", "mot-eval", "label"):
        shutil.copytree(run_dir / stage, run / stage)
    (run / "mot-eval" / "summary.json").write_text("{broken", encoding="utf-8")
    (run / "run.json").write_text('{"stages": 3}', encoding="utf-8")
    page = parse(build_report(run))
    errors = " ".join(page.text(s) for s in ("mot", "summary"))
    assert "summary.json: cannot read as JSON" in errors and "'stages' must be a list" in errors
    assert page.images("crop") and "label quality" in page.text("labels").lower()


def test_strings_from_files_are_escaped(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    stage = {"name": '<img src="http://x/y.png">', "seconds": 1.5, "status": "done"}
    record = {
        "camera_folder": "<script>alert(1)</script>",
        "config": {"note": "</pre><b>x</b>"},
        "stages": [stage],
    }
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")
    document = build_report(run)
    page = parse(document)
    _check_self_contained(page)
    assert "<script>alert(1)</script>" in page.text("summary")  # shown as text
    assert "&lt;script&gt;" in document and '<img src="http' not in document
    assert not [t for t, _ in page.tags if t == "b"]


def test_sstt_labels_make_a_montage_of_whole_tracklets(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir / "track", run / "track")
    assert (
        main(["label", str(run / "track"), "--out", str(run / "label"), "-c", "taudl", "sstt.period_s=4"])
        == 0
    )
    page = parse(build_report(run))
    text = page.text("montage")
    assert re.search(r"label \d+: 1 tracklet in 1 camera", text) and "sub-track" not in text
    assert "label quality not measured" in page.text("labels")  # no gt ids, no --gt
    labels = pd.read_csv(run / "label" / "labels.csv")
    assert len(re.findall(r"label \d+:", text)) == min(6, labels["label"].nunique())


def test_the_export_section_reads_export_json_and_the_model_card(tmp_path: Path) -> None:
    export = tmp_path / "run" / "export"
    export.mkdir(parents=True)
    card = {
        "input_size": [128, 64],
        "mean": [0.485, 0.456, 0.406],
        "std": [0.229, 0.224, 0.225],
        "colour": "RGB",
        "feature_dim": 192,
        "format": "onnx",
        "file": "model.onnx",
        "metrics": {"mAP": 21.58, "rank1": 18.6},
        "training": {"method": "tmc", "data": "a store", "epochs": 4},
    }
    summary = {"checkpoint": "RUN/train/model.pt", "parity_crops": "16 synthetic", "formats": {"onnx": {
        "file": str(export / "model.onnx"), "card": str(export / "model.onnx.json"), "bytes": 992800,
        "export_seconds": 0.12, "parity": {"min_cosine": 0.9999991, "max_abs_diff": 1.5e-07}}}}  # fmt: skip
    (export / "model.onnx.json").write_text(json.dumps(card), encoding="utf-8")
    (export / "export.json").write_text(json.dumps(summary), encoding="utf-8")
    page = parse(build_report(tmp_path / "run"))
    text = page.text("export")
    for figure in (
        "992.8 kB",
        "0.999999",
        "1.5e-07",
        "192",
        "mAP 21.6",
        "rank1 18.6",
        "tmc on a store, 4 epochs",
    ):
        assert figure in text, figure


def test_rfv_report_writes_the_page_where_asked_with_links_into_the_run(
    run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pages" / "run.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    page = parse(out.read_text(encoding="utf-8"))
    links = [str(a["href"]) for t, a in page.tags if t == "a" and not str(a.get("href")).startswith("#")]
    assert links and all((out.parent / link).exists() for link in links)
    assert main(["report", str(tmp_path / "nowhere")]) == 2


def test_a_stage_stopped_mid_run_shows_as_running(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir / "track", run / "track")
    (run / "train").mkdir()
    stages = [{"name": "track", "status": "done", "seconds": 3.25}, {"name": "train", "status": "not run"}]
    (run / "run.json").write_text(json.dumps({"stages": stages}), encoding="utf-8")
    stage = {"stage": "train", "key": "k", "status": "running", "seconds": 12.5}
    (run / "train" / "stage.json").write_text(json.dumps(stage), encoding="utf-8")
    page = parse(build_report(run))
    summary = page.text("summary")
    assert "track done track/ 3.2 s" in summary and "train running train/ 12.5 s" in summary
    assert "nothing in" in page.text("train") and "3.2 s" in page.text("time")
