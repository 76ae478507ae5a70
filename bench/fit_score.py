"""Fit the studio engine's confidence score (``segmentation.SCORE_WEIGHTS``) on the tuning seeds.

Run: ``.venv/bin/python bench/fit_score.py [--jobs 2]``; paste the printed weights into
``tools/cutout_tools/studio/segmentation.py``, then check the calibration on every seed, held-out ones
included, with ``bench/engine_quality.py``.

The score is a logistic model of "this cut-out has IoU >= 0.95" against "IoU < 0.85" over the engine's
``Evidence`` (what it saw while deciding), the two classes weighted equally, L2-regularised; its bias
is then moved so that both classes are right equally often at the trust threshold 0.8. Only the
evaluation set's tuning seeds are used: the held-out seeds stay a test of the score too.
"""

from __future__ import annotations

# ruff: noqa: E402  (thread limits must be set before numpy is imported)
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse
import io
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cutout_tools.studio import segmentation
from engine_quality import HIGH_IOU, LOW_IOU, TRUST_SCORE, TUNING_SEEDS, _iou_mae
from evalset import GROUPS, EvalCase, load_group

CUES = tuple(name for name in segmentation.SCORE_WEIGHTS if name != "bias")
L2 = 0.3


def observe(job: tuple[int, EvalCase]) -> tuple[list[float], float, float, float]:
    """The evidence, IoU, and the two factors outside the logistic model, for one image."""
    _seed, case = job
    data, truth = case.load()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    result = segmentation.segment(rgb)
    iou, _mae = _iou_mae(result.alpha, truth)
    evidence = result.evidence
    assert evidence is not None
    return [float(getattr(evidence, cue)) for cue in CUES], iou, evidence.outside_factor(), result.confidence


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Class-balanced, L2-regularised logistic regression by Newton's method (weights, then bias)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    sample_weight = np.where(y, 0.5 / y.sum(), 0.5 / (~y).sum())
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], L2 / len(x))
    penalty[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (sample_weight * (p - y)) + penalty * w
        hessian = (design * (sample_weight * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        w -= np.linalg.solve(hessian, gradient)
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    jobs = [(seed, case) for seed in TUNING_SEEDS for group in GROUPS for case in load_group(group, seed)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(observe, jobs, chunksize=4))
    x = np.array([r[0] for r in rows])
    iou = np.array([r[1] for r in rows])
    factor = np.array([r[2] for r in rows])
    decided = (iou < LOW_IOU) | (iou >= HIGH_IOU)
    w = fit(x[decided], iou[decided] >= HIGH_IOU)
    logit_threshold = np.log(TRUST_SCORE / (1 - TRUST_SCORE))
    # move the bias so both buckets are right equally often (with the factors outside the model)
    best = (np.inf, 0.0)
    for shift in np.linspace(-6, 6, 1201):
        score = factor / (1 + np.exp(-(x @ w[:-1] + w[-1] + shift)))
        low_right = np.mean(score[iou < LOW_IOU] < TRUST_SCORE)
        high_right = np.mean(score[iou >= HIGH_IOU] >= TRUST_SCORE)
        gap = abs(low_right - high_right) - 1e-3 * min(low_right, high_right)
        best = min(best, (gap, shift))
    w[-1] += best[1]
    score = factor / (1 + np.exp(-(x @ w[:-1] + w[-1])))
    print(
        f"{len(rows)} tuning images: {int((iou < LOW_IOU).sum())} with IoU < {LOW_IOU}, "
        f"{int((iou >= HIGH_IOU).sum())} with IoU >= {HIGH_IOU} (logit threshold {logit_threshold:.2f})"
    )
    print(
        f"right: low {np.mean(score[iou < LOW_IOU] < TRUST_SCORE):.3f}, "
        f"high {np.mean(score[iou >= HIGH_IOU] >= TRUST_SCORE):.3f}"
    )
    print("SCORE_WEIGHTS = {")
    for name, weight in zip((*CUES, "bias"), w, strict=True):
        print(f'    "{name}": {weight:.2f},')
    print("}")


if __name__ == "__main__":
    main()
