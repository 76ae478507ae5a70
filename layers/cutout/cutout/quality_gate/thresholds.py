"""The gate's thresholds: a profile's optional ``[profiles.<name>.quality]`` section.

The defaults hold back what deserves a person's look and let ordinary product photos through: a
score under ``REVIEW_SCORE`` (the one threshold for "look at this": the gate holds under it, the
local report flags under it, the docs say it), a mask with (almost) nothing or (almost) everything
opaque, a subject that runs off two or more sides of the frame, one that is a speck, a mask in
many pieces, or a variant that had to enlarge the product more than ``MAX_ENLARGEMENT`` times.
``bench/quality_gate.py`` measures them (catch rate and false holds).
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from cutout.typed import Model

Share = Annotated[float, Meta(ge=0.0, le=1.0)]

# The score under which a cut-out is held for review (and flagged by the report). On the studio
# engine's evaluation set every cut-out with IoU < 0.85 scores under it and 99 % of those with
# IoU >= 0.95 score at or above it (bench/README.md); Aidge documents no scale.
REVIEW_SCORE = 0.8
# How many times a variant may enlarge the product before it is held ("upscaled"): at 4× one source
# pixel becomes a 4×4 block (15 of 16 output pixels invented); the demo's product photos need 2.0-3.5×
# for amazon-main (1,700 px), a 160×120 thumbnail 20×. docs/quality-gate.md argues it.
MAX_ENLARGEMENT = 4.0


class QualityThresholds(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a cut-out is held for review instead of published."""

    enabled: bool = True
    # The API's score (0..1) below which the engine's own confidence is too low.
    min_score: Share = REVIEW_SCORE
    # Share of the frame that is opaque (alpha >= 50 %): below is "empty", above is "whole frame".
    min_opaque_share: Share = 0.001
    max_opaque_share: Share = 0.97
    # How many sides of the frame the subject may touch before it is "cut by the frame".
    max_edges_touched: Annotated[int, Meta(ge=0, le=4)] = 1
    # The subject's bounding box, as a share of the frame's area, below which it is "too small".
    min_subject_share: Share = 0.01
    # Pieces of the mask (each at least 0.1 % of the frame) above which it is "fragmented".
    max_fragments: Annotated[int, Meta(ge=1)] = 8
    # How many times a variant may enlarge the product (its longer side) before it is "upscaled".
    # Also refuses before paying a photo too small for every variant of the profile.
    max_enlargement: Annotated[float, Meta(ge=1.0)] = MAX_ENLARGEMENT
