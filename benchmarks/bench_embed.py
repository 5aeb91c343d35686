"""Benchmark: embedding throughput (crops/s) of a re-ID model per format, against the usual PyTorch pipeline.

Ours is :class:`reid_from_video.embed.runtime.ReidModel` (what ``rfv embed``, ``rfv evaluate`` and the
tracker run): BGR uint8 crops resized by OpenCV into one uint8 batch, normalised in one multiply-add, then
the model, for each format ``rfv export`` writes:

* ``eager``: the PyTorch network itself (``ReidModel.from_torch``, what loading a ``model.pt`` gives);
* ``torchscript``: the traced, frozen file;
* ``onnx``: the ONNX file run by onnxruntime (CPU provider; CUDA provider when installed).

The peer, measured in the same run on the same crops and the same network: torchreid's
``FeatureExtractor`` pipeline, plain PyTorch eager with PIL / torchvision preprocessing per crop
(``T.Resize((h, w))``, ``T.ToTensor()``, ``T.Normalize(mean, std)``, ``torch.stack``, ``model(batch)``
under ``torch.no_grad()``). Both sides start from decoded images in memory (numpy BGR for ours, PIL RGB for
the peer, converted beforehand), so JPEG decoding is left out of both.

Models (random weights; the speed does not depend on them): ``tiny`` at 128 x 64 (the synthetic presets)
and ResNet-50 at 256 x 128 (the papers'). Crops: deterministic synthetic images from 0.5x to 1.5x the input
size. Each format runs once to warm up, then ``--rounds`` times (the order rotated per round); crops/s is the
best round. The ``cos`` column is the mean cosine of each row's features to ours in eager mode (the peer's
PIL resize antialiases, OpenCV's does not, so its features differ a little).

    python benchmarks/bench_embed.py [--models tiny resnet50] [--rounds 3] [--threads N] [--device cpu cuda]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from reid_from_video.core import checkpoint
from reid_from_video.core.runtime_options import OnnxRuntime
from reid_from_video.embed.card import ModelCard
from reid_from_video.embed.runtime import ReidModel
from reid_from_video.export.config import ExportConfig
from reid_from_video.export.parity import synthetic_crops
from reid_from_video.export.pipeline import run_export
from reid_from_video.models.config import ModelConfig
from reid_from_video.models.reid_net import build_model

SETTINGS = {  # backbone: (input size, crops per round, batch) on CPU / on a GPU
    "tiny": ((128, 64), {"cpu": (512, 64), "cuda": (4096, 256)}),
    "resnet50": ((256, 128), {"cpu": (48, 16), "cuda": (2048, 256)}),
}


def make_model(backbone: str, size: tuple[int, int], folder: Path) -> tuple[torch.nn.Module, Path]:
    """A random network saved as rfv train's model.pt, and exported (both formats) beside it."""
    torch.manual_seed(0)
    config = ModelConfig(backbone=backbone, weights="none", input_size=size)
    model = build_model(config, load_weights=False).eval()
    path = folder / backbone / "model.pt"
    checkpoint.save(path, checkpoint.model_content(config.to_dict(), model.state_dict(), {}))
    run_export(path, path.parent, ExportConfig(batch=4))
    return model, path.parent


def peer(model: torch.nn.Module, size: tuple[int, int], device: str) -> Callable[[list], np.ndarray]:
    """torchreid's FeatureExtractor: per-crop PIL / torchvision preprocessing, eager PyTorch."""
    import torchvision.transforms as T

    transform = T.Compose(
        [T.Resize(size), T.ToTensor(), T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])]
    )
    model = model.to(device).eval()

    def embed(images: list) -> np.ndarray:
        with torch.no_grad():
            batch = torch.stack([transform(image) for image in images]).to(device)
            return model(batch).cpu().numpy()

    return embed


def batched(embed: Callable[[list], np.ndarray], crops: list, batch: int) -> np.ndarray:
    return np.concatenate([embed(crops[i : i + batch]) for i in range(0, len(crops), batch)])


def bench(backbone: str, device: str, rounds: int, threads: int, folder: Path) -> None:
    from PIL import Image

    size, per_device = SETTINGS[backbone]
    count, batch = per_device[device]
    model, files = make_model(backbone, size, folder)
    crops = synthetic_crops(count, size, seed=0)
    pil = [Image.fromarray(crop[..., ::-1]) for crop in crops]
    card = ModelCard.read(files / "model.onnx.json")
    runtimes = {
        "eager": ReidModel.from_torch(model, card, device),
        "torchscript": ReidModel.load(files / "model.torchscript.pt", device),
        "onnx": ReidModel.load(files / "model.onnx", device, runtime=OnnxRuntime(threads=threads or 0)),
    }
    runners: dict[str, Callable[[], np.ndarray]] = {
        name: (lambda r=runtime: r.embed(crops, batch_size=batch)) for name, runtime in runtimes.items()
    }
    peer_embed = peer(model, size, device)
    runners["peer (torchvision + eager)"] = lambda: batched(peer_embed, pil, batch)
    features = {name: run() for name, run in runners.items()}  # warm-up, and the features compared
    best = dict.fromkeys(runners, float("inf"))
    names = list(runners)
    for turn in range(rounds):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            if device == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            runners[name]()
            if device == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - started)
    peer_name = names[-1]
    peer_rate = count / best[peer_name]
    where = {name: runtime.device for name, runtime in runtimes.items()}
    print(f"\n{backbone} {size[0]}x{size[1]}, {count} crops, batch {batch}, {device}, "
          f"{torch.get_num_threads()} torch threads, best of {rounds}")  # fmt: skip
    print(f"{'format':<28} {'runs on':>8} {'crops/s':>10} {'vs peer':>8} {'cos':>10}")
    for name in names:
        rate = count / best[name]
        reference = features["eager"]
        ours = features[name] / np.linalg.norm(features[name], axis=1, keepdims=True)
        cos = float((ours * reference / np.linalg.norm(reference, axis=1, keepdims=True)).sum(1).mean())
        print(f"{name:<28} {where.get(name, device):>8} {rate:>10.1f} {rate / peer_rate:>7.2f}x {cos:>10.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["tiny", "resnet50"], choices=list(SETTINGS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch and ORT threads")
    parser.add_argument("--device", nargs="+", default=None, help="default: cpu, and cuda when present")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    import onnxruntime

    print(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__} "
          f"({', '.join(onnxruntime.get_available_providers())}), {os.cpu_count()} CPUs")  # fmt: skip
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit's deprecation notices
    with tempfile.TemporaryDirectory() as folder:
        for device in devices:
            for backbone in args.models:
                bench(backbone, device, args.rounds, args.threads, Path(folder))


if __name__ == "__main__":
    main()
