"""Quality and speed of the studio background-removal engine on several evaluation sets.

Run: ``.venv/bin/python bench/engine_quality.py [--seeds 20241123,7,11,13,17] [--quick] [--jobs 2]``.
Each seed is a set of product emoji on generated studio backgrounds with exact alpha (see
``bench/evalset``), generated and cached under ``bench/.cache/`` on first run. For every image, the
engine's ``estimate_alpha`` and a naive baseline (flood fill from the border over pixels within a
tolerance of the median border colour) are scored: IoU of alpha > 0.5, mean absolute alpha error, and
CPU seconds per megapixel on one core (numeric libraries limited to one thread, one process per job).

One seed says little about images the engine has never seen, so the report is per seed and overall,
and the objects are split (by a hash of their name) into a *tuning* half and a *held-out* half: tune on
the first, and if the second is clearly worse, the engine is over-fitted. The worst images are written
(photo | truth | prediction) to ``bench/.cache/worst/`` to look at. Results go to
``bench/results-engine.json``.
"""

from __future__ import annotations

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"  # before numpy is imported: timings are single-core

import argparse
import hashlib
import io
import json
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout_tools.studio import estimate_alpha
from evalset import BACKGROUND_KINDS, EvalCase, load_or_generate
from evalset.generate import CACHE_DIR, SEED

RESULTS_PATH = Path(__file__).resolve().parent / "results-engine.json"
WORST_DIR = CACHE_DIR / "worst"
DEFAULT_SEEDS = (SEED, 7, 11, 13, 17)
BASELINE_TOLERANCE = 30.0  # RGB distance to the median border colour
HOLDOUT_SALT = "held-out"  # chosen once for a balanced split (27 of 53 objects, 9 of 17 with holes)
WORST_SHOWN = 5


def is_held_out(object_name: str) -> bool:
    """Half of the objects, by a stable hash of the name: never look at these while tuning."""
    return hashlib.sha256(f"{HOLDOUT_SALT}:{object_name}".encode()).digest()[0] % 2 == 1


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
    seed: int
    case: EvalCase
    iou: float
    mae: float
    seconds: float
    megapixels: float
    baseline_iou: float
    baseline_mae: float

    @property
    def split(self) -> str:
        return "held-out" if is_held_out(self.case.object_name) else "tuning"


def _iou_mae(alpha: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    predicted, actual = alpha > 0.5, truth > 0.5
    iou = float((predicted & actual).sum() / max(1, (predicted | actual).sum()))
    return iou, float(np.abs(alpha - truth).mean())


def score(job: tuple[int, EvalCase]) -> Score:
    """Engine and baseline on one image (runs in a worker process)."""
    seed, case = job
    data, truth = case.load()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    started = time.process_time()
    alpha = estimate_alpha(rgb)
    seconds = time.process_time() - started
    iou, mae = _iou_mae(alpha, truth)
    baseline_iou, baseline_mae = _iou_mae(baseline_alpha(rgb), truth)
    megapixels = rgb.shape[0] * rgb.shape[1] / 1e6
    return Score(seed, case, iou, mae, seconds, megapixels, baseline_iou, baseline_mae)


def summarise(scores: Iterable[Score]) -> dict[str, float | int | str]:
    rows = list(scores)
    ious = np.array([s.iou for s in rows])
    worst = min(rows, key=lambda s: s.iou)
    return {
        "images": len(rows),
        "mean_iou": round(float(ious.mean()), 4),
        "worst_iou": round(float(ious.min()), 4),
        "worst_image": f"seed{worst.seed}/{worst.case.name}",
        "mean_abs_alpha_error": round(float(np.mean([s.mae for s in rows])), 5),
        "seconds_per_megapixel": round(sum(s.seconds for s in rows) / sum(s.megapixels for s in rows), 3),
        "baseline_mean_iou": round(float(np.mean([s.baseline_iou for s in rows])), 4),
        "baseline_worst_iou": round(float(np.min([s.baseline_iou for s in rows])), 4),
    }


def groups(scores: list[Score], seeds: Sequence[int]) -> dict[str, list[Score]]:
    grouped: dict[str, list[Score]] = {}
    for seed in seeds:
        grouped[f"seed {seed}"] = [s for s in scores if s.seed == seed]
    for kind in BACKGROUND_KINDS:
        grouped[kind] = [s for s in scores if s.case.kind == kind]
    grouped["with shadow"] = [s for s in scores if s.case.has_shadow]
    grouped["with hole"] = [s for s in scores if s.case.has_hole]
    grouped["tuning"] = [s for s in scores if s.split == "tuning"]
    grouped["held-out"] = [s for s in scores if s.split == "held-out"]
    grouped["overall"] = scores
    return {name: rows for name, rows in grouped.items() if rows}


def write_worst(score_: Score, rank: int) -> Path:
    """photo | truth | prediction, side by side, at most 1200 px wide: to look at, not to score."""
    data, truth = score_.case.load()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    alpha = estimate_alpha(rgb)
    as_rgb = [rgb] + [np.repeat((a * 255).astype(np.uint8)[..., None], 3, axis=2) for a in (truth, alpha)]
    strip = Image.fromarray(np.concatenate(as_rgb, axis=1))
    strip.thumbnail((1800, 600))
    path = WORST_DIR / f"{rank}-seed{score_.seed}-{score_.case.name}.png"
    strip.save(path)
    return path


def _generate(job: tuple[int, int]) -> list[EvalCase]:
    seed, per_kind = job
    return load_or_generate(seed=seed, images_per_kind=per_kind)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seeds",
        default=",".join(str(s) for s in DEFAULT_SEEDS),
        help="comma-separated seeds, one set each (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, help="a single seed (same as --seeds N)")
    parser.add_argument("--per-kind", type=int, default=12, help="images per background kind and seed")
    parser.add_argument("--quick", action="store_true", help="one small set: the default seed, 4 per kind")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (each single-threaded)")
    parser.add_argument("--no-images", action="store_true", help="do not write the worst cases' images")
    args = parser.parse_args()

    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    per_kind = args.per_kind
    if args.seed is not None:
        seeds = [args.seed]
    if args.quick:
        seeds, per_kind = [SEED], 4

    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        case_sets = list(pool.map(_generate, [(seed, per_kind) for seed in seeds]))
        jobs = [(seed, case) for seed, cases in zip(seeds, case_sets, strict=True) for case in cases]
        scores = list(pool.map(score, jobs, chunksize=4))

    header = f"{'':16s} {'n':>4s} | {'engine: mean IoU':>16s} {'worst':>6s} {'MAE':>7s} {'s/MP':>5s} |"
    header += f" {'baseline: mean':>14s} {'worst':>6s}"
    print(header)
    print("-" * len(header))
    results: dict[str, object] = {"seeds": seeds, "images_per_kind": per_kind, "groups": {}}
    for name, rows in groups(scores, seeds).items():
        summary = summarise(rows)
        results["groups"][name] = summary  # type: ignore[index]
        print(
            f"{name:16s} {summary['images']:>4} | {summary['mean_iou']:>16.4f} {summary['worst_iou']:>6.3f}"
            f" {summary['mean_abs_alpha_error']:>7.4f} {summary['seconds_per_megapixel']:>5.2f} |"
            f" {summary['baseline_mean_iou']:>14.4f} {summary['baseline_worst_iou']:>6.3f}"
        )

    worst = sorted(scores, key=lambda s: s.iou)[:WORST_SHOWN]
    print(f"\nthe {len(worst)} worst images:")
    if not args.no_images:
        shutil.rmtree(WORST_DIR, ignore_errors=True)
        WORST_DIR.mkdir(parents=True)
    results["worst"] = []
    for rank, s in enumerate(worst, start=1):
        where = "" if args.no_images else f"  -> {write_worst(s, rank).relative_to(CACHE_DIR.parent)}"
        print(
            f"  seed {s.seed:<9d} {s.case.name:34s} {s.case.kind:10s} {s.split:8s} IoU {s.iou:.4f}"
            f"  MAE {s.mae:.4f}  shadow={s.case.has_shadow}{where}"
        )
        results["worst"].append(  # type: ignore[attr-defined]
            {"seed": s.seed, "image": s.case.name, "kind": s.case.kind, "iou": round(s.iou, 4)}
        )
    RESULTS_PATH.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {RESULTS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
