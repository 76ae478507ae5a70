"""How well the quality gate sorts cut-outs: bad ones caught, good ones held back by mistake.

Run: ``.venv/bin/python bench/quality_gate.py [--seed 20241123] [--limit N]``.

The cut-outs are the studio engine's, on its own evaluation set (``bench/evalset``, generated and
cached on first use) plus failures made on purpose from the same photos:

- **engine** — each photo of the set as it is. A cut-out is *bad* when its mask's IoU with the
  exact alpha (alpha > 0.5) is below ``--bad-iou`` (0.75: visibly wrong), *good* otherwise.
- **blank** — the photo's background alone, no product (what an empty turntable shot looks like):
  always bad, nothing should be published.
- **cropped** — the photo cut through the middle of the product (the bottom-left quarter around its
  centre): the product runs off two sides of the frame, always bad.

Each cut-out is judged by ``cutout.quality_gate.judge`` with the default thresholds, on the stats of
its alpha and the engine's score, exactly as the pipeline does. Printed: per group, how many are bad,
how many of those are held (catch rate), how many good ones are held (false holds), and the reasons.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout.engine.port import CutoutOptions, ImageBytes
from cutout.quality_gate import QualityThresholds, alpha_stats_of_stream, judge
from cutout_tools.studio.engine import StudioEngine
from evalset import load_or_generate
from evalset.generate import SEED


@dataclass(frozen=True, slots=True)
class Judged:
    group: str
    name: str
    bad: bool
    reasons: tuple[str, ...]
    iou: float | None


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    p, t = predicted > 0.5, truth > 0.5
    union = np.logical_or(p, t).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, t).sum() / union)


def cut_out(engine: StudioEngine, photo: bytes) -> tuple[io.BytesIO, float | None]:
    result = engine.remove_background(ImageBytes(photo), CutoutOptions())
    return io.BytesIO(result.read()), result.score


def judged(
    engine: StudioEngine, group: str, name: str, photo: bytes, *, bad: bool | None, truth: np.ndarray | None
) -> Judged:
    body, score = cut_out(engine, photo)
    verdict = judge(alpha_stats_of_stream(body), score, QualityThresholds())
    overlap = None
    if truth is not None:
        with Image.open(body) as image:
            predicted = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
        overlap = iou(predicted, truth)
    is_bad = bad if bad is not None else (overlap or 0.0) < BAD_IOU
    return Judged(group, name, is_bad, verdict.reasons, overlap)


BAD_IOU = 0.75


def blank_of(photo: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The photo with the product painted over by the background's median colour, plus its noise."""
    border = np.concatenate([photo[0], photo[-1], photo[:, 0], photo[:, -1]])
    colour = np.median(border, axis=0)
    rows = np.linspace(0.0, 1.0, photo.shape[0])[:, None, None]
    gradient = colour * (0.97 + 0.06 * rows)  # a studio sweep is rarely perfectly flat
    return np.clip(gradient + np.random.default_rng(1).normal(0, 2, photo.shape), 0, 255).astype(np.uint8)


def cropped_of(photo: np.ndarray, truth: np.ndarray) -> np.ndarray | None:
    """The bottom-left part of the photo below and left of the product's centre."""
    ys, xs = np.nonzero(truth > 0.5)
    if len(xs) == 0:
        return None
    cy, cx = int(ys.mean()), int(xs.mean())
    if cx < 64 or photo.shape[0] - cy < 64:
        return None
    return photo[cy:, :cx]


def main() -> int:
    global BAD_IOU  # noqa: PLW0603  (a script's option)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--limit", type=int, default=0, help="only N photos, spread evenly over the set (0: all)"
    )
    parser.add_argument("--bad-iou", type=float, default=BAD_IOU)
    args = parser.parse_args()
    BAD_IOU = args.bad_iou
    cases = load_or_generate(seed=args.seed)
    if args.limit and args.limit < len(cases):
        step = len(cases) / args.limit  # every background kind keeps its share
        cases = [cases[int(index * step)] for index in range(args.limit)]
    engine = StudioEngine()
    results: list[Judged] = []
    for number, case in enumerate(cases, 1):
        data, truth = case.load()
        photo = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        results.append(judged(engine, "engine", case.name, data, bad=None, truth=truth))
        results.append(judged(engine, "blank", case.name, jpeg(blank_of(photo, truth)), bad=True, truth=None))
        cropped = cropped_of(photo, truth)
        if cropped is not None:
            results.append(judged(engine, "cropped", case.name, jpeg(cropped), bad=True, truth=None))
        print(f"\r{number}/{len(cases)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    report(results, seed=args.seed)
    return 0


def report(results: list[Judged], *, seed: int) -> None:
    print(
        f"quality gate on the studio engine's evaluation set (seed {seed}, default thresholds, "
        f"bad = IoU < {BAD_IOU})"
    )
    header = ("group", "images", "bad", "caught", "catch rate", "good", "held", "false holds")
    print(f"{header[0]:<10}" + "".join(f"{title:>{max(6, len(title) + 2)}}" for title in header[1:]))
    for group in ("engine", "blank", "cropped", "all"):
        chosen = [r for r in results if group in ("all", r.group)]
        bad = [r for r in chosen if r.bad]
        good = [r for r in chosen if not r.bad]
        caught = sum(1 for r in bad if r.reasons)
        held = sum(1 for r in good if r.reasons)
        rate = f"{100 * caught / len(bad):.1f} %" if bad else "-"
        false = f"{100 * held / len(good):.1f} %" if good else "-"
        cells = (len(chosen), len(bad), caught, rate, len(good), held, false)
        print(
            f"{group:<10}"
            + "".join(
                f"{cell!s:>{max(6, len(title) + 2)}}" for cell, title in zip(cells, header[1:], strict=True)
            )
        )
    reasons = Counter(reason for r in results for reason in r.reasons)
    given = ", ".join(f"{reason} {count}" for reason, count in reasons.most_common())
    print("reasons given:", given or "none")
    missed = [r for r in results if r.bad and not r.reasons]
    held_good = [r for r in results if not r.bad and r.reasons]
    for label, rows in (("missed (bad, published)", missed), ("false holds (good, held)", held_good)):
        shown = ", ".join(
            f"{r.group}:{r.name}"
            + (f" (IoU {r.iou:.2f}; {'+'.join(r.reasons)})" if r.iou is not None else "")
            for r in rows[:8]
        )
        print(f"{label}: {len(rows)}" + (f": {shown}" if rows else ""))


if __name__ == "__main__":
    raise SystemExit(main())
