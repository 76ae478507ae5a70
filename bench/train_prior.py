"""Train the studio engine's learned prior and write its weights for the numpy runtime.

Run, after ``bench/prior_data.py`` has written its shards (PyTorch is needed here only, never to run
the engine; ``bench/requirements-train.txt``)::

    python -m venv .venv-train && .venv-train/bin/pip install -r bench/requirements-train.txt
    .venv-train/bin/python bench/train_prior.py [--epochs 8] [--threads 2]

The network is ``cutout_tools.studio.prior``'s U-Net (the same layers, the same names); it learns the
true alpha at its resolution with binary cross-entropy plus a soft-IoU term, whole frames at a time
(the shape of the whole product is what it is for), flipped left-right at random (never upside down:
a shadow lies under its product). The last shards are kept aside and their IoU printed per epoch. The
weights go to ``tools/cutout_tools/studio/prior-weights.npz`` (float32, 0.27 MB).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from torch import nn
from torch.nn import functional

ROOT = Path(__file__).resolve().parent.parent
PRIOR_DIR = ROOT / "bench" / ".cache" / "prior"
WEIGHTS_PATH = ROOT / "tools" / "cutout_tools" / "studio" / "prior-weights.npz"


def _prior_module() -> ModuleType:
    """``cutout_tools.studio.prior`` by its path: numpy only, without the package's engine imports."""
    spec = importlib.util.spec_from_file_location("studio_prior", ROOT / "tools/cutout_tools/studio/prior.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_prior = _prior_module()
FEATURE_NAMES: tuple[str, ...] = _prior.FEATURE_NAMES
WIDTHS: tuple[int, ...] = _prior.WIDTHS

VALIDATION_SHARDS = 3
RULES_CHANNEL = FEATURE_NAMES.index("rules_mask")
RULES_DROPOUT = 0.3
BATCH = 8


class UNet(nn.Module):
    """The prior's network: two 3x3 convolutions per level, max-pool down, nearest up, skips."""

    def __init__(self, inputs: int) -> None:
        super().__init__()

        def block(into: int, out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(into, out, 3, padding=1), nn.ReLU(), nn.Conv2d(out, out, 3, padding=1), nn.ReLU()
            )

        self.down = nn.ModuleList(
            block(inputs if level == 0 else WIDTHS[level - 1], width) for level, width in enumerate(WIDTHS)
        )
        self.up = nn.ModuleList(
            block(WIDTHS[level + 1] + WIDTHS[level], WIDTHS[level]) for level in range(len(WIDTHS) - 1)
        )
        self.head = nn.Conv2d(WIDTHS[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level, block in enumerate(self.down):
            if level:
                x = functional.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for level in reversed(range(len(WIDTHS) - 1)):
            x = torch.cat([functional.interpolate(x, scale_factor=2, mode="nearest"), skips[level]], dim=1)
            x = self.up[level](x)
        return self.head(x)


def export(model: UNet) -> dict[str, np.ndarray]:
    """The weights under the numpy runtime's names (``down0.0.weight``...)."""
    weights: dict[str, np.ndarray] = {}
    for prefix, blocks in (("down", model.down), ("up", model.up)):
        for level, block in enumerate(blocks):
            for index, layer in ((0, block[0]), (1, block[2])):
                weights[f"{prefix}{level}.{index}.weight"] = layer.weight.detach().numpy().astype(np.float32)
                weights[f"{prefix}{level}.{index}.bias"] = layer.bias.detach().numpy().astype(np.float32)
    weights["head.weight"] = model.head.weight.detach().numpy().astype(np.float32)
    weights["head.bias"] = model.head.bias.detach().numpy().astype(np.float32)
    return weights


def load_shards(paths: list[Path]) -> list[tuple[np.ndarray, np.ndarray]]:
    samples = []
    for path in paths:
        with np.load(path) as shard:
            count = sum(1 for name in shard.files if name.startswith("x"))
            # float16 until batched: the samples of a few thousand frames fit in memory once
            samples += [(shard[f"x{i}"], shard[f"y{i}"]) for i in range(count)]
    return samples


def _by_shape(samples: list[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    """The samples' indices, grouped by frame size (a batch holds frames of one size)."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for index, (x, _y) in enumerate(samples):
        groups[x.shape].append(index)
    return list(groups.values())


def batches(
    samples: list[tuple[np.ndarray, np.ndarray]], shuffle: bool, rules_error_weight: float = 0.0
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Batches of frames of one size (the set has three shapes), flipped left-right at random.

    Each comes with its pixels' weights: ``1 + rules_error_weight`` where the rules' mask is wrong (a
    filled hole, a dropped grey body: what the prior is there to correct), 1 elsewhere. Batches are made
    as they are used (the samples stay float16 until then), so memory grows with the data only once.
    """
    chunks = []
    for indices in _by_shape(samples):
        if shuffle:
            random.shuffle(indices)
        chunks += [indices[start : start + BATCH] for start in range(0, len(indices), BATCH)]
    if shuffle:
        random.shuffle(chunks)
    for chosen in chunks:
        xs = np.stack([samples[i][0] for i in chosen]).astype(np.float32)
        ys = np.stack([samples[i][1] for i in chosen]).astype(np.float32)
        if shuffle:
            flip = np.random.rand(len(chosen)) < 0.5
            xs[flip] = xs[flip][..., ::-1]
            ys[flip] = ys[flip][..., ::-1]
        weights = 1.0 + rules_error_weight * np.abs(xs[:, RULES_CHANNEL : RULES_CHANNEL + 1] - ys)
        if shuffle:
            # now and then without the rules' mask, so that the network learns to see past it
            xs[np.random.rand(len(chosen)) < RULES_DROPOUT, RULES_CHANNEL] = 0.0
        yield (
            torch.from_numpy(np.ascontiguousarray(xs)),
            torch.from_numpy(np.ascontiguousarray(ys)),
            torch.from_numpy(np.ascontiguousarray(weights, dtype=np.float32)),
        )


def loss_of(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    bce = functional.binary_cross_entropy_with_logits(logits, target, weight=weight)
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    union = (p + target - p * target).sum(dim=(1, 2, 3))
    return bce + (1.0 - (inter + 1.0) / (union + 1.0)).mean()


def evaluate(model: UNet, data: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    ious = []
    with torch.no_grad():
        for x, y, _weight in data:
            p = model(x) > 0
            t = y > 0.5
            inter = (p & t).sum(dim=(1, 2, 3)).float()
            union = (p | t).sum(dim=(1, 2, 3)).float().clamp(min=1)
            ious += (inter / union).tolist()
    return float(np.mean(ious)), float(np.min(ious))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--data", type=Path, default=PRIOR_DIR, help="where prior_data.py wrote its shards")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH, help="where the weights go")
    parser.add_argument("--shards", type=int, default=0, help="use only the first N shards (0: all)")
    parser.add_argument(
        "--rules-error-weight",
        type=float,
        default=0.0,
        help="extra loss weight on the pixels the rules' mask gets wrong",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    paths = sorted(p for p in args.data.glob("shard-*.npz") if ".tmp" not in p.name)
    paths = paths[: args.shards] if args.shards else paths
    train = load_shards(paths[:-VALIDATION_SHARDS])
    held = list(batches(load_shards(paths[-VALIDATION_SHARDS:]), shuffle=False))
    print(f"{len(train)} training frames, {sum(len(x) for x, _, _ in held)} kept aside", flush=True)
    model = UNet(len(FEATURE_NAMES))
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps = args.epochs * sum(-(-len(group) // BATCH) for group in _by_shape(train))
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=args.lr, total_steps=steps, pct_start=0.15
    )
    for epoch in range(args.epochs):
        started, total, count = time.time(), 0.0, 0
        model.train()
        for x, y, weight in batches(train, shuffle=True, rules_error_weight=args.rules_error_weight):
            optimiser.zero_grad()
            loss = loss_of(model(x), y, weight)
            loss.backward()
            optimiser.step()
            schedule.step()
            total, count = total + float(loss.detach()), count + 1
        model.eval()
        mean_iou, worst_iou = evaluate(model, held)
        print(
            f"epoch {epoch + 1}: loss {total / count:.4f},"
            f" kept-aside IoU mean {mean_iou:.4f} worst {worst_iou:.3f}"
            f" ({time.time() - started:.0f} s)",
            flush=True,
        )
        np.savez(args.out, **export(model))
    print(f"weights: {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
