"""The "quality gate" step: hold doubtful cut-outs for review instead of publishing them."""

from cutout.quality_gate.judge import (
    CUT_BY_FRAME,
    EMPTY_MASK,
    FRAGMENTED,
    LOW_SCORE,
    PASS,
    REASONS,
    TOO_SMALL,
    UPSCALED,
    WHOLE_FRAME,
    Verdict,
    judge,
)
from cutout.quality_gate.review import REVIEW_PREFIX, REVIEW_TAG, review_key, review_metadata, review_tags
from cutout.quality_gate.stats import AlphaStats, alpha_stats, alpha_stats_of, alpha_stats_of_stream
from cutout.quality_gate.thresholds import MAX_ENLARGEMENT, REVIEW_SCORE, QualityThresholds

__all__ = [
    "CUT_BY_FRAME",
    "EMPTY_MASK",
    "FRAGMENTED",
    "LOW_SCORE",
    "MAX_ENLARGEMENT",
    "PASS",
    "REASONS",
    "REVIEW_PREFIX",
    "REVIEW_SCORE",
    "REVIEW_TAG",
    "TOO_SMALL",
    "UPSCALED",
    "WHOLE_FRAME",
    "AlphaStats",
    "QualityThresholds",
    "Verdict",
    "alpha_stats",
    "alpha_stats_of",
    "alpha_stats_of_stream",
    "judge",
    "review_key",
    "review_metadata",
    "review_tags",
]
