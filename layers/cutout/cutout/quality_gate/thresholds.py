"""The gate's thresholds: a profile's optional ``[profiles.<name>.quality]`` section.

The defaults hold back what is almost certainly a broken cut-out and let ordinary product photos
through: a score the engine itself doubts, a mask with (almost) nothing or (almost) everything
opaque, a subject that runs off two or more sides of the frame, one that is a speck, or a mask in
many pieces. ``bench/quality_gate.py`` measures them (catch rate and false holds).
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from cutout.typed import Model

Share = Annotated[float, Meta(ge=0.0, le=1.0)]


class QualityThresholds(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a cut-out is held for review instead of published."""

    enabled: bool = True
    # The API's score (0..1) below which the engine's own confidence is too low.
    min_score: Share = 0.3
    # Share of the frame that is opaque (alpha >= 50 %): below is "empty", above is "whole frame".
    min_opaque_share: Share = 0.001
    max_opaque_share: Share = 0.97
    # How many sides of the frame the subject may touch before it is "cut by the frame".
    max_edges_touched: Annotated[int, Meta(ge=0, le=4)] = 1
    # The subject's bounding box, as a share of the frame's area, below which it is "too small".
    min_subject_share: Share = 0.01
    # Pieces of the mask (each at least 0.1 % of the frame) above which it is "fragmented".
    max_fragments: Annotated[int, Meta(ge=1)] = 8
