"""What a person should look at in a run: cut-outs that came back ``done`` but may well be wrong.

A cut-out can be "successful" and useless: a white mug on white paper comes back fully transparent
(an empty mask), a busy photo comes back with nothing removed (a whole-frame mask), a product runs
off the edge of the picture, or the engine itself says it is unsure (a low ``score``). The report
flags those rows in a colour of their own and lists them first.

The checks read the cut-out file (its alpha channel, or, on a white background, its non-white
pixels) at a reduced size, and the output's metadata:

- ``low_score``: the engine's ``score`` is under ``LOW_SCORE``, the quality gate's own default
  ``min_score`` (``cutout.quality_gate.REVIEW_SCORE``): one threshold for "look at this";
- ``empty_mask``: under ``EMPTY_COVERAGE`` of the pixels belong to the subject;
- ``whole_frame``: over ``FULL_COVERAGE`` of them do (nothing was removed);
- ``cut_by_frame``: the subject covers over ``EDGE_COVERAGE`` of an edge of the picture (only when
  the output has the original's size: a target size crops to the subject on purpose);
- ``quality_gate``: the pipeline's quality gate held the cut-out: its outputs carry the reasons
  (``review-reasons``, ``cutout.quality_gate.review``); the row is flagged with them. (The older
  ``quality-verdict``/``quality-reasons`` pair is read too.)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from cutout.quality_gate import REVIEW_SCORE
from cutout.quality_gate.review import REVIEW_METADATA

LOW_SCORE = REVIEW_SCORE
EMPTY_COVERAGE = 0.002  # a small ring in a big frame still covers more
FULL_COVERAGE = 0.995
EDGE_COVERAGE = 0.10
ANALYSIS_SIDE = 256  # the mask is judged on a copy this size: enough for coverage and edges
ALPHA_SUBJECT = 128  # alpha at or above this is subject
WHITE_DISTANCE = 24  # on a white background, a pixel further than this from pure white is subject
MAX_PIXELS = 64_000_000
QUALITY_VERDICT = "quality-verdict"  # the quality gate's metadata, when it lands
QUALITY_REASONS = "quality-reasons"
QUALITY_PASS = "pass"  # noqa: S105 - a verdict, not a password


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason to look at a row: a stable code and a sentence for the page."""

    code: str
    sentence: str


@dataclass(frozen=True, slots=True)
class MaskFacts:
    """The subject in a cut-out: how much of the picture it covers, and which edges it runs into."""

    coverage: float  # 0..1
    edges: tuple[str, ...]  # of "top", "bottom", "left", "right"


def mask_facts(path: Path) -> MaskFacts | None:
    """The subject's coverage and edges in the cut-out at ``path``; ``None`` when it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    return None
                opened.draft("RGB", (ANALYSIS_SIDE, ANALYSIS_SIDE))
                image = ImageOps.exif_transpose(opened)
                image.load()
    except Exception:  # noqa: BLE001 - a broken file gets no flags here; its preview says why
        return None
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BOX)
    subject = _subject(image)
    coverage = float(subject.mean()) if subject.size else 0.0
    edges = {
        "top": subject[0, :],
        "bottom": subject[-1, :],
        "left": subject[:, 0],
        "right": subject[:, -1],
    }
    touching = tuple(name for name, line in edges.items() if line.size and float(line.mean()) > EDGE_COVERAGE)
    return MaskFacts(coverage=coverage, edges=touching)


def _subject(image: Image.Image) -> np.ndarray:
    """True where the pixel is subject: opaque enough, or (no alpha) not the white background."""
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        alpha = np.asarray(image.convert("RGBA").getchannel("A"))
        opaque: np.ndarray = alpha >= ALPHA_SUBJECT
        return opaque
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    not_white: np.ndarray = (255 - rgb).max(axis=-1) > WHITE_DISTANCE
    return not_white


def attention_flags(
    metadata: Mapping[str, object],
    facts: MaskFacts | None,
    *,
    same_size_as_original: bool = True,
) -> list[Flag]:
    """Every reason to look at a done row, most telling first (empty list: nothing to look at).

    ``same_size_as_original``: whether the cut-out has the input's size (else it was cropped or
    scaled to a target size, and a subject touching the edges is what was asked for).
    """
    flags = _quality_gate_flags(metadata)
    if facts is not None:
        if facts.coverage < EMPTY_COVERAGE:
            flags.append(
                Flag("empty_mask", f"empty cut-out: {facts.coverage:.1%} of the picture kept as subject")
            )
        elif facts.coverage > FULL_COVERAGE:
            flags.append(
                Flag("whole_frame", f"nothing removed: {facts.coverage:.1%} of the picture kept as subject")
            )
        elif facts.edges and same_size_as_original:
            flags.append(Flag("cut_by_frame", f"the subject runs off the {', '.join(facts.edges)} edge"))
    score = _number(metadata.get("score"))
    if score is not None and score < LOW_SCORE:
        flags.append(Flag("low_score", f"low score {score:.2f} (under {LOW_SCORE:g}): the engine is unsure"))
    return flags


def _quality_gate_flags(metadata: Mapping[str, object]) -> list[Flag]:
    held = metadata.get(REVIEW_METADATA)
    if isinstance(held, str) and held:
        return [Flag("quality_gate", f"held by the quality gate: {held.replace(',', ', ')}")]
    verdict = metadata.get(QUALITY_VERDICT)
    if not isinstance(verdict, str) or not verdict or verdict == QUALITY_PASS:
        return []
    reasons = metadata.get(QUALITY_REASONS)
    detail = f": {reasons}" if isinstance(reasons, str) and reasons else ""
    return [Flag("quality_gate", f"quality gate: {verdict}{detail}")]


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
