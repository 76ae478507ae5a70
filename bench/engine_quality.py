"""Quality, speed and score calibration of the studio background-removal engine.

Run: ``.venv/bin/python bench/engine_quality.py [--quick] [--groups neutral] [--jobs 2]``.

The evaluation set (``bench/evalset``) has three groups per seed: **colour** (product emoji as drawn,
on generated studio backdrops, v2's images), **neutral** (the same objects in greyscale, near-white,
silver and near-black, on the same backdrops, most with a contact shadow) and **hard** (a product the
colour of its paper, on purpose: white on white, lavender on lavender; reported apart, they are what the
score must flag). Seeds are split: the *tuning* seeds are the ones the engine was developed on, the
*held-out* seeds are only ever run to report (never look at their images while tuning). The objects
are also split by a hash of their name, a second check against over-fitting.

Each image goes through ``StudioEngine.remove_background`` end to end (decode, segment, PNG encode),
as the emulator runs it, one process per job with numeric libraries on one thread: IoU of alpha > 0.5,
mean absolute alpha error, CPU seconds per megapixel (images of 1 MP or more), and the score the
emulator would return, tabulated against IoU (the calibration). The five worst images per group
(photo | truth | cut-out) go to ``bench/worst/`` (committed; ``bench/.cache/worst/`` for partial runs).
Results go to ``bench/results-engine.json``.
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
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout.engine.port import CutoutOptions, ImageBytes
from cutout_tools.studio import StudioEngine
from evalset import BACKGROUND_KINDS, GROUPS, EvalCase, load_group
from evalset.generate import CACHE_DIR, NEUTRAL_VARIANTS, SEED

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results-engine.json"
COMMITTED_WORST_DIR = BENCH_DIR / "worst"
SCRATCH_WORST_DIR = CACHE_DIR / "worst"
TUNING_SEEDS = (SEED, 7, 11)
HELD_OUT_SEEDS = (101, 103)  # never tuned on: run them to report, not to look at
BASELINE_TOLERANCE = 30.0  # RGB distance to the median border colour
HOLDOUT_SALT = "held-out"  # chosen once for a balanced split (27 of 53 objects, 9 of 17 with holes)
WORST_SHOWN = 5
TRUST_SCORE = 0.8  # the score at or above which a cut-out is "to be trusted"
LOW_IOU, HIGH_IOU = 0.85, 0.95
# issue 14's targets: (group, mean IoU at least, worst IoU at least)
TARGETS = (("neutral", 0.95, 0.80), ("colour", 0.97, 0.90))
MAX_SECONDS_PER_MEGAPIXEL = 1.0
CALIBRATION_SHARE = 0.9


def is_held_out_object(object_name: str) -> bool:
    """Half of the objects, by a stable hash of the name."""
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
    held_out_seed: bool
    case: EvalCase
    iou: float
    mae: float
    seconds: float
    megapixels: float
    engine_score: float
    baseline_iou: float

    @property
    def split(self) -> str:
        return "held-out" if self.held_out_seed else "tuning"


def _iou_mae(alpha: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    predicted, actual = alpha > 0.5, truth > 0.5
    iou = float((predicted & actual).sum() / max(1, (predicted | actual).sum()))
    return iou, float(np.abs(alpha - truth).mean())


def cut_out(data: bytes) -> tuple[np.ndarray, float, float]:
    """Alpha (float32), score and CPU seconds of the engine on encoded bytes, as the emulator runs it."""
    started = time.process_time()
    cutout = StudioEngine().remove_background(ImageBytes(data), CutoutOptions())
    seconds = time.process_time() - started
    with Image.open(io.BytesIO(cutout.read())) as image:
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
    return alpha, float(cutout.score or 0.0), seconds


def score(job: tuple[int, bool, EvalCase]) -> Score:
    """Engine and baseline on one image (runs in a worker process)."""
    seed, held_out, case = job
    data, truth = case.load()
    alpha, engine_score, seconds = cut_out(data)
    iou, mae = _iou_mae(alpha, truth)
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    baseline_iou, _ = _iou_mae(baseline_alpha(rgb), truth)
    megapixels = truth.shape[0] * truth.shape[1] / 1e6
    return Score(seed, held_out, case, iou, mae, seconds, megapixels, engine_score, baseline_iou)


def summarise(rows: Sequence[Score]) -> dict[str, float | int | str]:
    ious = np.array([s.iou for s in rows])
    worst = min(rows, key=lambda s: s.iou)
    timed = [s for s in rows if s.megapixels >= 1.0] or list(rows)
    return {
        "images": len(rows),
        "mean_iou": round(float(ious.mean()), 4),
        "worst_iou": round(float(ious.min()), 4),
        "worst_image": f"seed{worst.seed}/{worst.case.name}",
        "mean_abs_alpha_error": round(float(np.mean([s.mae for s in rows])), 5),
        "seconds_per_megapixel": round(sum(s.seconds for s in timed) / sum(s.megapixels for s in timed), 3),
        "baseline_mean_iou": round(float(np.mean([s.baseline_iou for s in rows])), 4),
        "mean_score": round(float(np.mean([s.engine_score for s in rows])), 4),
    }


def groups(scores: list[Score]) -> dict[str, list[Score]]:
    """The rows of the table: per group and split, then slices of the colour and neutral images."""
    rows: dict[str, list[Score]] = {}
    for group in GROUPS:
        of_group = [s for s in scores if s.case.group == group]
        rows[f"{group}"] = of_group
        rows[f"{group}: tuning seeds"] = [s for s in of_group if not s.held_out_seed]
        rows[f"{group}: held-out seeds"] = [s for s in of_group if s.held_out_seed]
        rows[f"{group}: held-out objects"] = [s for s in of_group if is_held_out_object(s.case.object_name)]
    for variant in NEUTRAL_VARIANTS:
        rows[f"neutral {variant}"] = [s for s in scores if s.case.variant == variant]
    products = [s for s in scores if s.case.group != "hard"]
    for kind in BACKGROUND_KINDS:
        rows[f"on {kind}"] = [s for s in products if s.case.kind == kind]
    rows["with shadow"] = [s for s in products if s.case.has_shadow]
    rows["with hole"] = [s for s in products if s.case.has_hole]
    return {name: selected for name, selected in rows.items() if selected}


def calibration(scores: Sequence[Score]) -> list[dict[str, object]]:
    """How many cut-outs of each IoU bucket score under and at or above ``TRUST_SCORE``."""
    buckets: list[tuple[str, Callable[[float], bool], bool | None]] = [
        (f"IoU < {LOW_IOU}", lambda iou: iou < LOW_IOU, False),
        (f"{LOW_IOU} <= IoU < {HIGH_IOU}", lambda iou: LOW_IOU <= iou < HIGH_IOU, None),
        (f"IoU >= {HIGH_IOU}", lambda iou: iou >= HIGH_IOU, True),
    ]
    table = []
    for name, inside, should_trust in buckets:
        rows = [s for s in scores if inside(s.iou)]
        low = sum(1 for s in rows if s.engine_score < TRUST_SCORE)
        high = len(rows) - low
        share = None
        if should_trust is not None and rows:
            share = (high if should_trust else low) / len(rows)
        row = {"bucket": name, "images": len(rows), "score_below": low, "score_at_or_above": high}
        table.append({**row, "right": share})
    return table


def write_worst(score_: Score, path: Path) -> Path:
    """photo | truth | cut-out alpha, side by side, small: to look at, not to score."""
    data, truth = score_.case.load()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    alpha, _score, _seconds = cut_out(data)
    as_rgb = [rgb] + [np.repeat((a * 255).astype(np.uint8)[..., None], 3, axis=2) for a in (truth, alpha)]
    strip = Image.fromarray(np.concatenate(as_rgb, axis=1))
    strip.thumbnail((540, 180), Image.Resampling.LANCZOS)
    strip.save(path, optimize=True)
    return path


def _generate(job: tuple[int, str, int | None]) -> list[EvalCase]:
    seed, group, count = job
    return load_group(group, seed, count)


def _line(name: str, summary: dict[str, float | int | str]) -> str:
    return (
        f"{name:28s} {summary['images']:>4} | {summary['mean_iou']:>8.4f} {summary['worst_iou']:>6.3f}"
        f" {summary['mean_abs_alpha_error']:>7.4f} {summary['seconds_per_megapixel']:>5.2f}"
        f" {summary['mean_score']:>6.3f} | {summary['baseline_mean_iou']:>8.4f}"
    )


def _print_targets(results: dict[str, dict[str, float | int | str]], everything: list[Score]) -> None:
    print("\ntargets (issue 14):")
    for group, mean_min, worst_min in TARGETS:
        for split in ("tuning seeds", "held-out seeds"):
            row = results.get(f"{group}: {split}")
            if row is None:
                continue
            ok = float(row["mean_iou"]) >= mean_min and float(row["worst_iou"]) >= worst_min
            print(
                f"  {group:8s} {split:15s} mean IoU {row['mean_iou']:.4f} (>= {mean_min}), worst"
                f" {row['worst_iou']:.3f} (>= {worst_min}): {'met' if ok else 'NOT MET'}"
            )
    timed = [s for s in everything if s.megapixels >= 1.0]
    if timed:
        rate = sum(s.seconds for s in timed) / sum(s.megapixels for s in timed)
        slowest = max(s.seconds / s.megapixels for s in timed)
        ok = rate <= MAX_SECONDS_PER_MEGAPIXEL
        print(
            f"  speed    {len(timed)} images of 1 MP or more: {rate:.2f} CPU s/MP on one core, slowest"
            f" {slowest:.2f} (<= {MAX_SECONDS_PER_MEGAPIXEL}): {'met' if ok else 'NOT MET'}"
        )


def _print_calibration(scores: list[Score]) -> list[dict[str, object]]:
    table = calibration(scores)
    print(f"\nscore calibration (score < {TRUST_SCORE}: do not trust), all {len(scores)} images:")
    print(f"  {'bucket':22s} {'n':>5s} {'score<0.8':>10s} {'score>=0.8':>11s}  right")
    for row in table:
        right = "" if row["right"] is None else f"{float(row['right']):.0%}"  # type: ignore[arg-type]
        print(
            f"  {row['bucket']!s:22s} {row['images']:>5} {row['score_below']:>10}"
            f" {row['score_at_or_above']:>11}  {right}"
        )
    shares = [table[0]["right"], table[2]["right"]]
    met = all(r is not None and float(r) >= CALIBRATION_SHARE for r in shares)  # type: ignore[arg-type]
    verdict = "met" if met else "NOT MET"
    print(f"  target: >= {CALIBRATION_SHARE:.0%} right in the first and last bucket: {verdict}")
    held = [s for s in scores if s.held_out_seed]
    if held:
        part = calibration(held)
        print(
            f"  held-out seeds only: IoU < {LOW_IOU}: {part[0]['score_below']}/{part[0]['images']} below;"
            f" IoU >= {HIGH_IOU}: {part[2]['score_at_or_above']}/{part[2]['images']} at or above"
        )
    return table


def _report_worst(
    scores: list[Score], chosen: list[str], worst_dir: Path, *, images: bool
) -> dict[str, list[dict[str, object]]]:
    """Print the worst images per group and write them (photo | truth | cut-out) to ``worst_dir``."""
    if images:
        if worst_dir == COMMITTED_WORST_DIR:
            for old in worst_dir.glob("*.png"):  # only what this script writes there
                old.unlink()
        else:
            shutil.rmtree(worst_dir, ignore_errors=True)
        worst_dir.mkdir(parents=True, exist_ok=True)
    worst_out: dict[str, list[dict[str, object]]] = {}
    for group in chosen:
        worst = sorted((s for s in scores if s.case.group == group), key=lambda s: s.iou)[:WORST_SHOWN]
        print(f"\nthe {len(worst)} worst {group} images:")
        worst_out[group] = []
        for rank, s in enumerate(worst, start=1):
            where = ""
            if images:
                path = write_worst(s, worst_dir / f"{group}-{rank}.png")
                where = f"  -> {path.relative_to(BENCH_DIR.parent)}"
            print(
                f"  seed {s.seed:<9d} {s.case.name:40s} {s.split:8s} IoU {s.iou:.4f} MAE {s.mae:.4f}"
                f" score {s.engine_score:.3f} shadow={s.case.has_shadow}{where}"
            )
            entry = {"seed": s.seed, "image": s.case.name, "iou": round(s.iou, 4)}
            worst_out[group].append({**entry, "score": round(s.engine_score, 4)})
    return worst_out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    tuning_default = ",".join(map(str, TUNING_SEEDS))
    parser.add_argument("--seeds", default=tuning_default, help="tuning seeds (%(default)s)")
    parser.add_argument(
        "--held-out-seeds", default=",".join(map(str, HELD_OUT_SEEDS)), help="held-out seeds (%(default)s)"
    )
    parser.add_argument("--groups", default=",".join(GROUPS), help="groups to run (%(default)s)")
    parser.add_argument("--per-kind", type=int, help="images per background kind (colour and neutral)")
    parser.add_argument("--quick", action="store_true", help="the first tuning seed, 3 per kind, 4 hard")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (each single-threaded)")
    parser.add_argument("--no-images", action="store_true", help="do not write the worst cases' images")
    args = parser.parse_args()

    tuning = [int(s) for s in args.seeds.split(",") if s.strip()]
    held_out = [int(s) for s in args.held_out_seeds.split(",") if s.strip()]
    chosen = [g.strip() for g in args.groups.split(",") if g.strip()]
    per_kind: int | None = args.per_kind
    if args.quick:
        tuning, held_out, per_kind = tuning[:1], [], 3
    full_run = not args.quick and set(chosen) == set(GROUPS)
    full_run = full_run and tuning == list(TUNING_SEEDS) and held_out == list(HELD_OUT_SEEDS)
    hard_count = None if per_kind is None else max(2, per_kind + 1)

    plan = [
        (seed, seed in held_out, group, hard_count if group == "hard" else per_kind)
        for seed in [*tuning, *held_out]
        for group in chosen
    ]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        case_sets = list(pool.map(_generate, [(seed, group, count) for seed, _h, group, count in plan]))
        jobs = [
            (seed, is_held, case)
            for (seed, is_held, _group, _count), cases in zip(plan, case_sets, strict=True)
            for case in cases
        ]
        scores = list(pool.map(score, jobs, chunksize=2))

    header = f"{'':28s} {'n':>4s} | {'mean IoU':>8s} {'worst':>6s} {'MAE':>7s} {'s/MP':>5s} {'score':>6s} |"
    header += f" {'baseline':>8s}"
    print(header)
    print("-" * len(header))
    summaries: dict[str, dict[str, float | int | str]] = {}
    for name, rows in groups(scores).items():
        summaries[name] = summarise(rows)
        print(_line(name, summaries[name]))
    _print_targets(summaries, scores)

    table = _print_calibration(scores)

    worst_out = _report_worst(
        scores, chosen, COMMITTED_WORST_DIR if full_run else SCRATCH_WORST_DIR, images=not args.no_images
    )
    if full_run:
        results = {
            "tuning_seeds": tuning,
            "held_out_seeds": held_out,
            "per_kind": per_kind,
            "groups": summaries,
            "calibration": table,
            "worst": worst_out,
        }
        RESULTS_PATH.write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwrote {RESULTS_PATH.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
