"""How well the quality gate sorts cut-outs: bad ones caught, good ones held back by mistake.

Run: ``.venv/bin/python bench/quality_gate.py [--jobs 1] [--limit N] [--groups colour] [--seeds 7]``
(the whole set by default: every group of every seed, tuning and held-out, 540 photos), or
``.venv/bin/python bench/quality_gate.py --from bench/results-quality-gate.json [--set min_score=0.4]``
to judge the cut-outs of an earlier run again (with other thresholds) without running the engine.

The cut-outs are the studio engine's, on its own evaluation set (``bench/evalset``, generated and
cached on first use: groups colour, neutral and hard, five seeds) plus failures made on purpose from
the same photos:

- **engine** — each photo of the set as it is. A cut-out is *bad* when its mask's IoU with the
  exact alpha (alpha > 0.5) is below ``--bad-iou`` (0.75: visibly wrong), *good* otherwise. The
  ``hard`` group (a product the colour of its paper) is where most of the engine's bad ones are.
- **blank** — the photo's background alone, no product (what an empty turntable shot looks like):
  always bad, nothing should be published.
- **cropped** — the photo cut through the middle of the product (the bottom-left quarter around its
  centre): the product runs off two sides of the frame, always bad.

Each cut-out is judged by ``cutout.quality_gate.judge`` with the default thresholds (or ``--set``),
on the stats of its alpha and the engine's score, exactly as the pipeline does. Printed: per kind of
cut-out (engine by group, blank, cropped), per backdrop, per seed split, how many are bad, how many of
those are held (catch rate), how many good ones are held (false holds), and the reasons. Every
cut-out's stats, score and IoU go to ``--save`` (default ``bench/results-quality-gate.json`` for a
whole-set run), so thresholds can be weighed again offline.
"""

from __future__ import annotations

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"  # one core per worker: the machine is shared

import argparse
import io
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout.engine.port import CutoutOptions, ImageBytes
from cutout.quality_gate import AlphaStats, QualityThresholds, alpha_stats_of_stream, judge
from cutout_tools.studio.engine import StudioEngine
from evalset import GROUPS, EvalCase, load_group
from evalset.generate import SEED

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_PATH = BENCH_DIR / "results-quality-gate.json"
TUNING_SEEDS = (SEED, 7, 11)  # as bench/engine_quality.py
HELD_OUT_SEEDS = (101, 103)
BAD_IOU = 0.75


@dataclass(frozen=True, slots=True)
class Measured:
    """One cut-out: what it is, how good it really is, and what the gate sees of it."""

    kind: str  # engine, blank, cropped
    group: str  # the evaluation set's group: colour, neutral, hard
    backdrop: str
    variant: str
    seed: int
    name: str
    bad: bool
    iou: float | None
    score: float | None
    stats: AlphaStats | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        stats = None if self.stats is None else asdict(self.stats)
        if stats is not None:  # six decimals: far finer than any threshold
            stats = {name: round(v, 6) if isinstance(v, float) else v for name, v in stats.items()}
        data["stats"] = stats
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measured:
        stats = data.get("stats")
        if stats is not None:
            stats = AlphaStats(**{**stats, "edges_touched": tuple(stats["edges_touched"])})
        return cls(**{**data, "stats": stats})


@dataclass(frozen=True, slots=True)
class Judged:
    case: Measured
    reasons: tuple[str, ...]

    @property
    def held(self) -> bool:
        return bool(self.reasons)


def jpeg(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    p, t = predicted > 0.5, truth > 0.5
    union = np.logical_or(p, t).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, t).sum() / union)


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


_engine: StudioEngine | None = None


def _cut_out(photo: bytes) -> tuple[io.BytesIO, float | None]:
    global _engine  # noqa: PLW0603  (one engine per worker process)
    if _engine is None:
        _engine = StudioEngine()
    result = _engine.remove_background(ImageBytes(photo), CutoutOptions())
    return io.BytesIO(result.read()), result.score


def _measure(kind: str, seed: int, case: EvalCase, photo: bytes, truth: np.ndarray | None) -> Measured:
    body, score = _cut_out(photo)
    stats = alpha_stats_of_stream(body)
    overlap = None
    if truth is not None:
        with Image.open(body) as image:
            predicted = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
        overlap = iou(predicted, truth)
    return Measured(
        kind=kind,
        group=case.group,
        backdrop=case.kind,
        variant=case.variant,
        seed=seed,
        name=case.name,
        bad=True if truth is None else overlap is not None and overlap < BAD_IOU,
        iou=None if overlap is None else round(overlap, 4),
        score=score,
        stats=stats,
    )


def measure_photo(job: tuple[int, EvalCase]) -> list[Measured]:
    """The photo's own cut-out, its blank and its cropped version (when the crop is big enough)."""
    seed, case = job
    data, truth = case.load()
    photo = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    measured = [_measure("engine", seed, case, data, truth)]
    measured.append(_measure("blank", seed, case, jpeg(blank_of(photo, truth)), None))
    cropped = cropped_of(photo, truth)
    if cropped is not None:
        measured.append(_measure("cropped", seed, case, jpeg(cropped), None))
    return measured


def _generate(job: tuple[int, str]) -> list[EvalCase]:
    return load_group(job[1], job[0])


def run(seeds: Sequence[int], groups: Sequence[str], limit: int, jobs: int) -> list[Measured]:
    plan = [(seed, group) for seed in seeds for group in groups]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        photos = [
            (seed, case)
            for (seed, _group), cases in zip(plan, pool.map(_generate, plan), strict=True)
            for case in cases
        ]
        if limit and limit < len(photos):
            step = len(photos) / limit  # every group and backdrop keeps its share
            photos = [photos[int(index * step)] for index in range(limit)]
        measured: list[Measured] = []
        for number, rows in enumerate(pool.map(measure_photo, photos, chunksize=1), 1):
            measured.extend(rows)
            print(f"\r{number}/{len(photos)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return measured


def rejudge(measured: Sequence[Measured], thresholds: QualityThresholds) -> list[Judged]:
    return [Judged(case, judge(case.stats, case.score, thresholds).reasons) for case in measured]


def _row(label: str, rows: Sequence[Judged]) -> str:
    bad = [r for r in rows if r.case.bad]
    good = [r for r in rows if not r.case.bad]
    caught = sum(1 for r in bad if r.held)
    held = sum(1 for r in good if r.held)
    rate = f"{100 * caught / len(bad):.1f} %" if bad else "-"
    false = f"{100 * held / len(good):.1f} %" if good else "-"
    cells = (len(rows), len(bad), caught, rate, len(good), held, false)
    return f"{label:<22}" + "".join(f"{cell!s:>{width}}" for cell, width in zip(cells, WIDTHS, strict=True))


HEADER = ("images", "bad", "caught", "catch rate", "good", "held", "false holds")
WIDTHS = tuple(max(7, len(title) + 2) for title in HEADER)


def report(judged: Sequence[Judged], *, thresholds: QualityThresholds, seeds: Sequence[int]) -> None:
    changed = {
        name: value
        for name, value in thresholds.model_dump().items()
        if value != QualityThresholds.model_fields[name].default
    }
    print(
        f"quality gate on the studio engine's evaluation set (seeds {', '.join(map(str, seeds))}; "
        f"{'thresholds ' + str(changed) if changed else 'default thresholds'}; bad = IoU < {BAD_IOU})"
    )
    print(f"{'':<22}" + "".join(f"{title:>{width}}" for title, width in zip(HEADER, WIDTHS, strict=True)))

    def section(title: str, key: Callable[[Judged], str | None], order: Sequence[str]) -> None:
        print(f"-- {title}")
        for value in order:
            rows = [r for r in judged if key(r) == value]
            if rows:
                print(_row(value, rows))

    kinds = ("engine: colour", "engine: neutral", "engine: hard", "blank", "cropped")
    section(
        "by kind of cut-out",
        lambda r: f"engine: {r.case.group}" if r.case.kind == "engine" else r.case.kind,
        kinds,
    )
    print(_row("all", judged))
    backdrops = sorted({r.case.backdrop for r in judged})
    section(
        "engine cut-outs by backdrop",
        lambda r: r.case.backdrop if r.case.kind == "engine" else None,
        backdrops,
    )
    variants = sorted({r.case.variant for r in judged})
    section(
        "engine cut-outs by variant", lambda r: r.case.variant if r.case.kind == "engine" else None, variants
    )
    section(
        "all cut-outs by seed split",
        lambda r: "held-out seeds" if r.case.seed in HELD_OUT_SEEDS else "tuning seeds",
        ("tuning seeds", "held-out seeds"),
    )
    reasons = Counter(reason for r in judged for reason in r.reasons)
    print(
        "reasons given:", ", ".join(f"{reason} {count}" for reason, count in reasons.most_common()) or "none"
    )
    for label, wanted_bad in (("missed (bad, published)", True), ("false holds (good, held)", False)):
        rows = [r for r in judged if r.case.bad == wanted_bad and r.held != wanted_bad]
        shown = ", ".join(
            f"{r.case.kind}:{r.case.seed}:{r.case.name}"
            + (
                f" (IoU {r.case.iou:.2f}, score {r.case.score or 0:.2f}; {'+'.join(r.reasons) or '-'})"
                if r.case.iou is not None
                else ""
            )
            for r in rows[:10]
        )
        print(f"{label}: {len(rows)}" + (f": {shown}" if rows else "") + (" …" if len(rows) > 10 else ""))


def save(target: Path, measured: Sequence[Measured], *, seeds: Sequence[int], groups: Sequence[str]) -> None:
    """One cut-out per line (diffs stay readable), under the run's seeds, groups and IoU bar."""
    head = json.dumps({"seeds": list(seeds), "groups": list(groups), "bad_iou": BAD_IOU})[:-1]
    rows = ",\n".join(json.dumps(m.to_dict(), separators=(",", ":")) for m in measured)
    target.write_text(f'{head}, "cutouts": [\n{rows}\n]}}\n', encoding="utf-8")


def _thresholds(settings: Sequence[str]) -> QualityThresholds:
    values: dict[str, str] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        values[name.strip()] = value.strip()
    return QualityThresholds.model_validate(values)


def main() -> int:
    global BAD_IOU  # noqa: PLW0603  (a script's option)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    every_seed = ",".join(map(str, (*TUNING_SEEDS, *HELD_OUT_SEEDS)))
    parser.add_argument("--seeds", default=every_seed, help="seeds of the set (%(default)s)")
    parser.add_argument("--groups", default=",".join(GROUPS), help="groups of the set (%(default)s)")
    parser.add_argument("--limit", type=int, default=0, help="only N photos, spread evenly (0: all)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes, each single-threaded")
    parser.add_argument("--bad-iou", type=float, default=BAD_IOU)
    parser.add_argument("--save", type=Path, help="where the measured cut-outs go (JSON)")
    parser.add_argument("--from", dest="source", type=Path, help="judge a saved run again, no engine")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a threshold other than the default"
    )
    args = parser.parse_args()
    BAD_IOU = args.bad_iou
    thresholds = _thresholds(args.set)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    if args.source:
        saved = json.loads(args.source.read_text())
        measured = [Measured.from_dict(item) for item in saved["cutouts"]]
        measured = [
            m if m.iou is None else Measured.from_dict({**m.to_dict(), "bad": m.iou < BAD_IOU})
            for m in measured
        ]
        seeds = saved["seeds"]
    else:
        measured = run(seeds, groups, args.limit, args.jobs)
        whole = not args.limit and set(groups) == set(GROUPS) and args.seeds == every_seed
        target = args.save or (RESULTS_PATH if whole else None)
        if target is not None:
            save(target, measured, seeds=seeds, groups=groups)
            print(f"measured cut-outs written to {target}", file=sys.stderr)
    report(rejudge(measured, thresholds), thresholds=thresholds, seeds=seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
