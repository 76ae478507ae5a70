"""The quality gate: whether a cut-out is published or held for review, and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cutout.quality_gate.stats import AlphaStats
from cutout.quality_gate.thresholds import QualityThresholds

LOW_SCORE = "low_score"
EMPTY_MASK = "empty_mask"
WHOLE_FRAME = "whole_frame"
CUT_BY_FRAME = "cut_by_frame"
TOO_SMALL = "too_small"
FRAGMENTED = "fragmented"
UPSCALED = "upscaled"
REASONS = (LOW_SCORE, EMPTY_MASK, WHOLE_FRAME, CUT_BY_FRAME, TOO_SMALL, FRAGMENTED, UPSCALED)


@dataclass(frozen=True, slots=True)
class Verdict:
    """``reasons`` empty: publish. Otherwise the outputs go under ``review/`` with these reasons."""

    reasons: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        return bool(self.reasons)


PASS = Verdict()


def judge(
    stats: AlphaStats | None,
    score: float | None,
    thresholds: QualityThresholds,
    enlargements: Mapping[str, float] | None = None,
) -> Verdict:
    """The verdict on one master: its alpha's ``stats`` (``None`` without alpha), the API's score and
    how much each variant enlarges the product (``cutout.variants.enlargement.enlargements``)."""
    if not thresholds.enabled:
        return PASS
    reasons: list[str] = []
    if score is not None and score < thresholds.min_score:
        reasons.append(LOW_SCORE)
    if enlargements and max(enlargements.values()) > thresholds.max_enlargement:
        reasons.append(UPSCALED)
    if stats is not None:
        if stats.opaque_share < thresholds.min_opaque_share:
            reasons.append(EMPTY_MASK)  # nothing else can be said of an empty mask
            return Verdict(tuple(reasons))
        if stats.opaque_share > thresholds.max_opaque_share:
            reasons.append(WHOLE_FRAME)  # every side is touched: "cut by frame" would say nothing more
            return Verdict(tuple(reasons))
        if len(stats.edges_touched) > thresholds.max_edges_touched:
            reasons.append(CUT_BY_FRAME)
        if stats.subject_share < thresholds.min_subject_share:
            reasons.append(TOO_SMALL)
        if stats.fragments > thresholds.max_fragments:
            reasons.append(FRAGMENTED)
    return Verdict(tuple(reasons))
