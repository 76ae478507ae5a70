"""Quality and speed of the studio background-removal engine on the evaluation set.

Run: ``.venv/bin/python bench/engine_quality.py [--seed N] [--per-kind N]``. The set (product emoji
on generated studio backgrounds, exact alpha; see ``bench/evalset``) is generated and cached under
``bench/.cache/`` on first run. For every image, the engine's ``estimate_alpha`` and a naive
baseline (flood fill from the border over pixels within a tolerance of the median border colour) are
scored: IoU of alpha > 0.5, mean absolute alpha error, and seconds per megapixel on one core (numeric
libraries limited to one thread). Prints a table per background kind and writes
``bench/results-engine.json``.
"""

from __future__ import annotations

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy is imported: timings are single-core

import argparse
import io
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout_tools.studio import estimate_alpha
from evalset import BACKGROUND_KINDS, EvalCase, load_or_generate
from evalset.generate import SEED

RESULTS_PATH = Path(__file__).resolve().parent / "results-engine.json"
BASELINE_TOLERANCE = 30.0  # RGB distance to the median border colour


def baseline_alpha(rgb: np.ndarray) -> np.ndarray:
    """The toy to beat: flood fill from the border over pixels close to the border's median colour."""
    pixels = rgb.astype(np.float32)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    close = np.linalg.norm(pixels - np.median(border, axis=0), axis=-1) < BASELINE_TOLERANCE
    labels, _ = ndimage.label(close)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    background = np.isin(labels, edge_labels[edge_labels > 0])
    return (~background).astype(np.float32)


@dataclass(frozen=True, slots=True)
class Score:
    case: EvalCase
    iou: float
    mae: float
    seconds: float
    megapixels: float


def score(case: EvalCase, method: Callable[[np.ndarray], np.ndarray]) -> Score:
    data, truth = case.load()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    started = time.process_time()
    alpha = method(rgb)
    seconds = time.process_time() - started
    predicted, actual = alpha > 0.5, truth > 0.5
    iou = float((predicted & actual).sum() / max(1, (predicted | actual).sum()))
    mae = float(np.abs(alpha - truth).mean())
    return Score(case, iou, mae, seconds, rgb.shape[0] * rgb.shape[1] / 1e6)


def summarise(scores: Iterable[Score]) -> dict[str, float | int | str]:
    rows = list(scores)
    ious = np.array([s.iou for s in rows])
    worst = min(rows, key=lambda s: s.iou)
    return {
        "images": len(rows),
        "mean_iou": round(float(ious.mean()), 4),
        "worst_iou": round(float(ious.min()), 4),
        "worst_image": worst.case.name,
        "mean_abs_alpha_error": round(float(np.mean([s.mae for s in rows])), 5),
        "seconds_per_megapixel": round(sum(s.seconds for s in rows) / sum(s.megapixels for s in rows), 3),
    }


def groups(scores: list[Score]) -> dict[str, list[Score]]:
    grouped = {kind: [s for s in scores if s.case.kind == kind] for kind in BACKGROUND_KINDS}
    grouped["with shadow"] = [s for s in scores if s.case.has_shadow]
    grouped["with hole"] = [s for s in scores if s.case.has_hole]
    grouped["overall"] = scores
    return {name: rows for name, rows in grouped.items() if rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=SEED, help="another seed: another set of the same kind")
    parser.add_argument("--per-kind", type=int, default=12, help="images per background kind")
    parser.add_argument("--show-below", type=float, default=0.97, help="list images under this engine IoU")
    args = parser.parse_args()

    cases = load_or_generate(seed=args.seed, images_per_kind=args.per_kind)
    engine_scores = [score(case, estimate_alpha) for case in cases]
    baseline_scores = [score(case, baseline_alpha) for case in cases]

    header = f"{'':14s} {'n':>3s} | {'engine: mean IoU':>16s} {'worst':>6s} {'MAE':>7s} {'s/MP':>5s} |"
    header += f" {'baseline: mean IoU':>18s} {'worst':>6s} {'MAE':>7s}"
    print(header)
    print("-" * len(header))
    results: dict[str, object] = {"seed": args.seed, "images": len(cases), "groups": {}}
    for name, rows in groups(engine_scores).items():
        engine = summarise(rows)
        baseline = summarise(s for s in baseline_scores if s.case in {r.case for r in rows})
        results["groups"][name] = {"engine": engine, "baseline": baseline}  # type: ignore[index]
        print(
            f"{name:14s} {engine['images']:>3} | {engine['mean_iou']:>16.4f} {engine['worst_iou']:>6.3f}"
            f" {engine['mean_abs_alpha_error']:>7.4f} {engine['seconds_per_megapixel']:>5.2f} |"
            f" {baseline['mean_iou']:>18.4f} {baseline['worst_iou']:>6.3f}"
            f" {baseline['mean_abs_alpha_error']:>7.4f}"
        )
    below = sorted((s for s in engine_scores if s.iou < args.show_below), key=lambda s: s.iou)
    if below:
        print(f"\nimages under IoU {args.show_below}:")
        for s in below:
            print(f"  {s.case.name:40s} IoU {s.iou:.4f}  MAE {s.mae:.4f}  shadow={s.case.has_shadow}")
    RESULTS_PATH.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
