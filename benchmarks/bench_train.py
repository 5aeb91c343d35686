"""Benchmark: training images/s of the real training loop (TAUDL) against the usual re-ID input pipeline.

Ours is ``reid_from_video.train.run_train`` itself, method taudl (one network: shared backbone, one
classifier branch per camera, TAUDL's loss), one epoch of ``--warmup`` + ``--steps`` batches: JPEG decoding
into uint8 batches in ``data.workers`` processes, the copy to the device, normalisation and augmentation
there (flip, pad + crop, random erasing), forward, loss, backward and Adam's step. The peer is the usual
torchreid / fast-reid input pipeline training the same network (``models.build_model``, same seed) with the
same loss (``losses.TAUDLLoss``) on the same batches: a ``Dataset`` returning one image
(``PIL.Image.open(path).convert("RGB")``, then torchvision's ``Resize``, ``RandomHorizontalFlip``,
``Pad(10)``, ``RandomCrop``, ``ToTensor``, ``Normalize``, ``RandomErasing``), a ``DataLoader`` with as many
workers and ``batch_sampler`` = the same list of index batches, Adam (lr 3.5e-4, weight decay 5e-4, as
in the config).
Both sides see the same frames, labels and cameras (``train.data``'s loader, every tracklet its own label
in its camera) and the same camera-balanced batches (``train.sampler``, seed 0).

Images/s = images of the batches after the first ``--warmup`` ones over the time they took, read at the
end of every batch (after the loss was read back, so a GPU has finished the step); data loading included.
Every run is a fresh process (spawn); ``--rounds`` runs of each side (3 on a CPU, 1 on a GPU), alternating
which goes first, and the median of each side's images/s (other processes share this machine's CPUs).

* CPU: ``tiny`` backbone, 128 x 64, ``--threads`` torch threads (1: steady on a shared machine), 1 worker,
  P = 24 x K = 4, fp32; ours keeps the config's channels-last layout, the peer uses torch's default (NCHW).
* GPU (when ``torch.cuda.is_available()``): ResNet-50, 256 x 128, bf16 autocast and channels-last on both
  sides (so the ratio isolates the input pipeline), P = 96 x K = 4 (TAUDL's batch of 384), min(8, CPUs)
  workers, ``--compile``: torch.compile on both sides. Goal: ours >= 3,000 images/s on an H200-class GPU.

Data: ``--data`` a MARS root; by default the synthetic world (``rfv synth``, seed 0: 3 cameras, 256 x 128
JPEG crops), made once into runs/bench-train-world and reused.

    python benchmarks/bench_train.py [--data MARS_ROOT] [--steps 30|100] [--warmup 5] [--rounds 3|1]
                                     [--threads 1] [--workers N] [--compile]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

ROOT = Path(__file__).resolve().parents[1]
WORLD = ROOT / "runs" / "bench-train-world"
GOAL_GPU = 3000.0  # images/s, ResNet-50 256 x 128 bf16 on an H200-class GPU
K = 4
RANDOM_WEIGHTS = "backbone .* starts from random weights"  # weights=none: the warning is expected here


def synthetic_world() -> Path:
    """The MARS export of the seed-0 synthetic world, made once into runs/bench-train-world."""
    mars = WORLD / "mars"
    if (WORLD / "world.json").is_file() and (mars / "bbox_train").is_dir():
        return mars
    from reid_from_video.core.config import load_config
    from reid_from_video.synth.config import SynthConfig
    from reid_from_video.synth.pipeline import synthesize

    print(f"making the synthetic world into {WORLD} (once) ...", flush=True)
    synthesize(load_config(SynthConfig, None, ["seed=0", "contact_sheet=false"]), WORLD, progress=False)
    return mars


def settings(args: argparse.Namespace, cuda: bool) -> dict[str, Any]:
    """What both sides train with."""
    if cuda:
        return dict(
            device="cuda",
            backbone="resnet50",
            size=(256, 128),
            p=96,
            workers=min(8, os.cpu_count() or 1) if args.workers is None else args.workers,
            threads=args.threads or 0,
            bf16=True,
            channels_last=True,
            compile=args.compile,
        )
    return dict(
        device="cpu",
        backbone="tiny",
        size=(128, 64),
        p=24,
        workers=1 if args.workers is None else args.workers,
        threads=1 if args.threads is None else args.threads,
        bf16=False,
        channels_last=True,  # ours: the config's default (the peer: NCHW on a CPU, see peer())
        compile=args.compile,
    )


def frames_and_batches(root: Path, p: int, iters: int) -> tuple[Any, Any, list[int], list[list[int]]]:
    """(frames, per-camera labels, classes per camera, index batches): what both sides train on."""
    from reid_from_video.train.data import camera_local_labels, every_unit_labelled, load_train_frames
    from reid_from_video.train.sampler import camera_balanced_batches, epoch_rng

    frames = every_unit_labelled(load_train_frames(root, None, sub_tracks=False))
    local, sizes = camera_local_labels(frames)
    batches = camera_balanced_batches(frames.label, frames.camera, p, K, iters, 0, epoch_rng(0, 0, 0))
    return frames, local, sizes, [[int(i) for i in b] for b in batches]


def measurement(times: list[float], warmup: int, batch: int, s: dict[str, Any]) -> dict[str, Any]:
    """Images/s over the batches after the first ``warmup``; ``times[i]``: the end of batch i + 1."""
    import torch

    measured = len(times) - warmup
    device = (
        torch.cuda.get_device_name(0) if s["device"] == "cuda" else f"cpu, {torch.get_num_threads()} thr."
    )
    return {
        "images_s": measured * batch / (times[-1] - times[warmup - 1]),
        "measured": measured,
        "device": device,
    }


# --- the two sides, each run in a fresh process ----------------------------------------------------------


def ours(root: str, s: dict[str, Any], warmup: int, steps: int) -> dict[str, Any]:
    """run_train (method taudl) for warmup + steps batches; the time of every batch from a hook."""
    warnings.filterwarnings("ignore", message=RANDOM_WEIGHTS)
    from reid_from_video.core.config import load_config
    from reid_from_video.train.config import TrainConfig
    from reid_from_video.train.hooks import Hook
    from reid_from_video.train.run import run_train

    times: list[float] = []

    class Stamp(Hook):
        def after_step(self, trainer: Any) -> None:
            times.append(time.perf_counter())

    h, w = s["size"]
    overrides = [
        "method=taudl",
        "epochs=1",
        f"data.iters={warmup + steps}",
        f"data.p={s['p']}",
        f"data.k={K}",
        f"data.workers={s['workers']}",
        "eval.data=",
        "progress=false",
        "save_every=0",
        f"device={s['device']}",
        f"threads={s['threads']}",
        f"amp={'bf16' if s['bf16'] else 'auto'}",  # auto: off on a CPU (YAML reads a bare off as false)
        f"channels_last={str(s['channels_last']).lower()}",
        f"compile={str(s['compile']).lower()}",
        f"model.backbone={s['backbone']}",
        "model.weights=none",
        f"model.input_size=[{h}, {w}]",
    ]
    config = load_config(TrainConfig, None, overrides)
    with tempfile.TemporaryDirectory() as out:
        run_train(root, out, config, hooks=[Stamp()])
    return measurement(times, warmup, s["p"] * K, s)


class PeerDataset(Dataset):
    """torchreid's / fast-reid's ImageDataset shape: item i is image i through the transforms (the labels
    come from the batch's rows, as on our side)."""

    def __init__(self, paths: list[str], transform: Callable) -> None:
        self.paths, self.transform = paths, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Any:
        from PIL import Image

        return self.transform(Image.open(self.paths[index]).convert("RGB"))


def peer(root: str, s: dict[str, Any], warmup: int, steps: int) -> dict[str, Any]:
    """The same network, loss and batches, fed by the usual PIL + torchvision transforms pipeline."""
    warnings.filterwarnings("ignore", message=RANDOM_WEIGHTS)
    import torch
    from torch.utils.data import DataLoader
    from torchvision import transforms as T

    from reid_from_video.losses.taudl import TAUDLLoss
    from reid_from_video.models.config import ModelConfig
    from reid_from_video.models.reid_net import build_model

    if s["threads"]:
        torch.set_num_threads(s["threads"])
    device = torch.device(s["device"])
    cuda = device.type == "cuda"
    frames, local, sizes, batches = frames_and_batches(Path(root), s["p"], warmup + steps)
    h, w = s["size"]
    model_config = ModelConfig(backbone=s["backbone"], weights="none", input_size=(h, w))
    transform = T.Compose(
        [
            T.Resize((h, w)),
            T.RandomHorizontalFlip(),
            T.Pad(10),
            T.RandomCrop((h, w)),
            T.ToTensor(),
            T.Normalize(model_config.mean, model_config.std),
            T.RandomErasing(),
        ]
    )
    loader = DataLoader(
        PeerDataset(frames.paths, transform), batch_sampler=batches, num_workers=s["workers"], pin_memory=cuda
    )
    torch.manual_seed(0)  # as the training loop does before building its network
    net = build_model(model_config, [max(1, size) for size in sizes])
    layout = torch.channels_last if cuda and s["channels_last"] else torch.contiguous_format
    net.to(device, memory_format=layout).train()
    optimizer = torch.optim.Adam(net.parameters(), lr=3.5e-4, weight_decay=5e-4)
    forward = torch.compile(net) if s["compile"] else net
    loss_fn = TAUDLLoss(num_cameras=len(sizes))
    labels, cameras = torch.tensor(local), torch.tensor(frames.camera)
    times: list[float] = []
    for step, images in enumerate(loader):
        rows = torch.tensor(batches[step])
        images = images.to(device, non_blocking=True).contiguous(memory_format=layout)
        with torch.autocast(device.type, torch.bfloat16, enabled=s["bf16"]):
            output = forward(images)
            logits = [branch.float() for branch in output.logits]
            loss = loss_fn(output.features.float(), logits, labels[rows].to(device), cameras[rows].to(device))
        loss.total.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        float(loss.total.detach())  # as our loop logs the loss: a GPU has finished the step
        times.append(time.perf_counter())
    return measurement(times, warmup, s["p"] * K, s)


def isolated(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``function(*args)`` in a fresh process."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


# --- the report ------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="a MARS root (default: the synthetic world)")
    parser.add_argument("--steps", type=int, default=None, help="measured batches (default: 30 CPU, 100 GPU)")
    parser.add_argument("--warmup", type=int, default=5, help="batches before the measurement")
    parser.add_argument("--rounds", type=int, default=None, help="runs of each side (default: 3 CPU, 1 GPU)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: 1 CPU, all GPU)")
    parser.add_argument(
        "--workers", type=int, default=None, help="decoding workers (default: 1 CPU, min(8, CPUs) GPU)"
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile the network (both sides)")
    args = parser.parse_args()
    if args.warmup < 1:
        parser.error("--warmup must be >= 1 (the measurement starts at the end of a batch)")
    if (args.steps is not None and args.steps < 1) or (args.rounds is not None and args.rounds < 1):
        parser.error("--steps and --rounds must be >= 1")
    import torch

    cuda = torch.cuda.is_available()
    steps = args.steps or (100 if cuda else 30)
    rounds = args.rounds or (1 if cuda else 3)
    s = settings(args, cuda)
    root = args.data or synthetic_world()
    frames, _, sizes, _ = frames_and_batches(root, s["p"], 1)
    print(
        f"{len(frames)} training images of {root} ({frames.num_units} tracklets in {len(sizes)} cameras), "
        f"batches of {s['p']} x {K} = {s['p'] * K} (camera balanced), {args.warmup} warm-up + {steps} "
        f"measured, {rounds} round(s)\ntorch {torch.__version__}, {os.cpu_count()} CPUs, load average "
        f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} (other processes share the CPUs)"
    )

    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "peer": []}
    functions = {"ours": ours, "peer": peer}
    for round_ in range(rounds):
        for side in ("ours", "peer") if round_ % 2 == 0 else ("peer", "ours"):
            runs[side].append(isolated(functions[side], str(root), s, args.warmup, steps))
    figures = {side: statistics.median(r["images_s"] for r in runs[side]) for side in runs}

    h, w = s["size"]
    precision = "bf16" if s["bf16"] else "fp32"
    layouts = {
        "ours": f"{precision}, channels-last" if s["channels_last"] else f"{precision}, NCHW",
        "peer": f"{precision}, channels-last" if s["channels_last"] and cuda else f"{precision}, NCHW",
    }
    if s["compile"]:
        layouts = {side: f"{text}, compiled" for side, text in layouts.items()}
    names = {"ours": "ours: run_train (taudl)", "peer": "peer: PIL + torchvision"}
    header = (
        f"{'':23s} | {'images/s':>8s} | {'batches':>7s} | {'device':20s} | {'backbone':8s} | {'input':7s} | "
        f"{'workers':>7s} | precision, layout"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for side, side_runs in runs.items():
        first = side_runs[0]
        measured = f"{rounds}x{first['measured']}" if rounds > 1 else str(first["measured"])
        print(
            f"{names[side]:23s} | {figures[side]:8.0f} | {measured:>7s} | {first['device'][:20]:20s} | "
            f"{s['backbone']:8s} | {f'{h}x{w}':7s} | {s['workers']:7d} | {layouts[side]}"
        )
    ratio = figures["ours"] / figures["peer"]
    print(f"\nours / peer: {ratio:.2f}x images/s" + (" (medians of the rounds)" if rounds > 1 else ""))
    if rounds > 1:
        each = {side: ", ".join(f"{r['images_s']:.0f}" for r in runs[side]) for side in runs}
        ratios = ", ".join(
            f"{a['images_s'] / b['images_s']:.2f}x" for a, b in zip(runs["ours"], runs["peer"], strict=True)
        )
        print(f"rounds: ours {each['ours']}; peer {each['peer']}; ours / peer {ratios}")
    if cuda:
        print(
            "(the peer uses the same bf16 autocast and channels-last layout on the GPU, so the ratio "
            "isolates the input pipeline)"
        )
        verdict = "met" if figures["ours"] >= GOAL_GPU else "MISSED"
        print(
            f"goal: ours >= {GOAL_GPU:,.0f} images/s, ResNet-50 256x128 bf16 with data loading, on an "
            f"H200-class GPU: {verdict} ({figures['ours']:,.0f} on {runs['ours'][0]['device']})"
        )
    else:
        print("(no GPU here: the goal, ResNet-50 256x128 bf16 >= 3,000 images/s, is measured on a GPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
