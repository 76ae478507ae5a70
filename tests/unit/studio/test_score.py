"""The studio engine's confidence score: derived from the evidence it had, low means "look at it"."""

from __future__ import annotations

import dataclasses

import pytest

from cutout_tools.studio.segmentation import Evidence

TRUST = 0.8  # the score at or above which the bench counts a cut-out as trusted

CLEAR = Evidence(
    contrast=0.9,
    edge_support=0.95,
    shadow_share=0.1,
    outline_agreement=0.98,
    largest_share=1.0,
    coverage=0.2,
    touching_border=0.0,
    paper_inside=0.0,
    shadow_inside=0.05,
    paper_outline=0.0,
    prior_certainty=0.95,
    rules_agreement=0.98,
)
# Kinds of doubt the engine's evidence can show
DOUBTS = {
    # most of the mask and much of its outline the paper's colour, barely off it: white on white
    "paper-coloured": {"paper_inside": 0.8, "paper_outline": 0.5, "contrast": 0.6},
    "shadow-coloured": {"shadow_inside": 0.9, "shadow_share": 0.7, "contrast": 0.5},  # decided by shape alone
    # the mask's outline mostly on no edge of the photo, and it keeps little of what outlines enclose
    "unsupported-outline": {"edge_support": 0.3, "outline_agreement": 0.4},
    "low-contrast": {"contrast": 0.2},  # the outline is barely off the paper
    # the learned prior unsure of its mask, and the rules' own mask far from the one returned
    "prior-in-doubt": {"prior_certainty": 0.5, "rules_agreement": 0.6},
}


def test_a_cut_out_with_a_sharp_contrasted_outline_is_trusted() -> None:
    # Given the evidence of a product with a sharp outline far from the paper's colour, in one piece
    evidence = CLEAR

    # When its confidence is computed
    score = evidence.confidence()

    # Then it is trusted
    assert score >= TRUST


@pytest.mark.parametrize("doubt", DOUBTS.values(), ids=DOUBTS.keys())
def test_each_kind_of_doubt_lowers_the_score(doubt: dict[str, float]) -> None:
    # Given the clear cut-out's evidence with one kind of doubt added
    evidence = dataclasses.replace(CLEAR, **doubt)

    # When its confidence is computed
    score = evidence.confidence()

    # Then it is below the clear one's (one doubt alone, against otherwise clear evidence, need not
    # cross the trust line: the fitted model weighs the cues together)
    assert score < CLEAR.confidence()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("paper-coloured", "shadow-coloured"),
        ("paper-coloured", "unsupported-outline"),
        ("paper-coloured", "prior-in-doubt"),
        ("shadow-coloured", "unsupported-outline"),
        ("shadow-coloured", "prior-in-doubt"),
        ("unsupported-outline", "prior-in-doubt"),
    ],
)
def test_two_kinds_of_doubt_together_score_under_the_trust_line(first: str, second: str) -> None:
    # Given the clear cut-out's evidence with two kinds of doubt (as a failed cut-out shows them)
    evidence = dataclasses.replace(CLEAR, **{**DOUBTS[first], **DOUBTS[second]})

    # When its confidence is computed
    score = evidence.confidence()

    # Then it is not trusted
    assert score < TRUST


def test_a_mask_touching_the_frame_or_empty_is_not_trusted() -> None:
    # Given a mask that runs into the frame, and an empty one
    touching = dataclasses.replace(CLEAR, touching_border=0.3)
    empty = dataclasses.replace(CLEAR, coverage=0.0)

    # When their confidences are computed / Then neither is trusted, the empty one is zero
    assert touching.confidence() < TRUST
    assert empty.confidence() == 0.0
