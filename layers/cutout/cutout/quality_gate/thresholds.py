"""The gate's thresholds: a profile's optional ``[profiles.<name>.quality]`` section.

The defaults hold back what is almost certainly a broken cut-out and let ordinary product photos
through: a score the engine itself doubts, a mask with (almost) nothing or (almost) everything
opaque, a subject that runs off two or more sides of the frame, one that is a speck, or a mask in
many pieces. ``bench/quality_gate.py`` measures them (catch rate and false holds).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QualityThresholds(BaseModel):
    """When a cut-out is held for review instead of published."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    # The API's score (0..1) below which the engine's own confidence is too low.
    min_score: float = Field(default=0.3, ge=0.0, le=1.0)
    # Share of the frame that is opaque (alpha >= 50 %): below is "empty", above is "whole frame".
    min_opaque_share: float = Field(default=0.001, ge=0.0, le=1.0)
    max_opaque_share: float = Field(default=0.97, ge=0.0, le=1.0)
    # How many sides of the frame the subject may touch before it is "cut by the frame".
    max_edges_touched: int = Field(default=1, ge=0, le=4)
    # The subject's bounding box, as a share of the frame's area, below which it is "too small".
    min_subject_share: float = Field(default=0.01, ge=0.0, le=1.0)
    # Pieces of the mask (each at least 0.1 % of the frame) above which it is "fragmented".
    max_fragments: int = Field(default=8, ge=1)
