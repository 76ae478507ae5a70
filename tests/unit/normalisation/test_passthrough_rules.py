""" "Already a cut-out" at each of its four thresholds, from both sides, and the passthrough result
for each background: no call is made for it, so it must be billed 0 and say it was not the vendor.

The thresholds (``passthrough.py``): at least 5 % transparent pixels, at least 5 % opaque ones, at
most 20 % partly transparent, and at least half of the 1-pixel border transparent.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from cutout.engine.port import Background
from cutout.normalisation import alpha_facts, is_already_cutout
from cutout.normalisation.alpha import AlphaFacts
from cutout.normalisation.normalise import NormalisedImage, normalise
from cutout.normalisation.passthrough import (
    MAX_PARTIAL,
    MIN_BORDER_TRANSPARENT,
    MIN_OPAQUE,
    MIN_TRANSPARENT,
    PASSTHROUGH_ENGINE,
    passthrough_cutout,
)
from cutout.pixels import PixelBudget

BUDGET = PixelBudget.for_memory(1024)
STEP = 1e-9  # just past a threshold


def _facts(transparent: float = 0.4, opaque: float = 0.5, border: float = 0.9) -> AlphaFacts:
    return AlphaFacts(transparent=transparent, opaque=opaque, border_transparent=border)


@pytest.mark.parametrize(
    ("facts", "cutout"),
    [
        # transparent background: at least 5 %
        pytest.param(_facts(transparent=MIN_TRANSPARENT, opaque=0.8), True, id="transparent-at-5"),
        pytest.param(_facts(transparent=MIN_TRANSPARENT - STEP, opaque=0.8), False, id="transparent-under-5"),
        # opaque subject: at least 5 %
        pytest.param(_facts(transparent=0.8, opaque=MIN_OPAQUE), True, id="opaque-at-5"),
        pytest.param(_facts(transparent=0.8, opaque=MIN_OPAQUE - STEP), False, id="opaque-under-5"),
        # a clean matte: at most 20 % partly transparent
        pytest.param(_facts(transparent=0.5, opaque=0.3), True, id="partial-at-20"),
        pytest.param(_facts(transparent=0.5, opaque=0.3 - 1e-6), False, id="partial-over-20"),
        # a background that surrounds: at least half of the border
        pytest.param(_facts(border=MIN_BORDER_TRANSPARENT), True, id="border-at-half"),
        pytest.param(_facts(border=MIN_BORDER_TRANSPARENT - STEP), False, id="border-under-half"),
        pytest.param(_facts(border=1.0), True, id="border-all"),
    ],
)
def test_each_threshold_of_already_a_cutout_from_both_sides(facts: AlphaFacts, cutout: bool) -> None:
    # Given alpha facts at, or just past, one threshold (the others comfortably met)
    # When the input is judged
    # Then it is a cut-out exactly when every threshold is met
    assert is_already_cutout(facts) is cutout


def test_the_thresholds_are_the_documented_ones() -> None:
    # Given the passthrough rule, Then its thresholds are those of docs/inputs.md
    assert (MIN_TRANSPARENT, MIN_OPAQUE, MAX_PARTIAL, MIN_BORDER_TRANSPARENT) == (0.05, 0.05, 0.20, 0.5)


@given(
    transparent=st.floats(min_value=0.0, max_value=1.0),
    opaque=st.floats(min_value=0.0, max_value=1.0),
    border=st.floats(min_value=0.0, max_value=1.0),
)
def test_already_a_cutout_is_the_four_conditions_together(
    transparent: float, opaque: float, border: float
) -> None:
    # Given any alpha facts
    facts = AlphaFacts(
        transparent=transparent, opaque=min(opaque, 1.0 - transparent), border_transparent=border
    )
    # When the input is judged, Then it is a cut-out exactly when all four hold
    expected = (
        facts.transparent >= 0.05
        and facts.opaque >= 0.05
        and facts.partial <= 0.20
        and facts.border_transparent >= 0.5
    )
    assert is_already_cutout(facts) is expected


def _normalised_cutout() -> tuple[bytes, NormalisedImage]:
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    image.paste((200, 40, 40, 255), (60, 40, 240, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    normalised = normalise(buffer.getvalue(), BUDGET)
    assert is_already_cutout(alpha_facts(Image.open(io.BytesIO(normalised.data))))
    return normalised.data, normalised


@pytest.mark.parametrize(
    ("background", "content_type"),
    [(Background.TRANSPARENT, "image/png"), (Background.WHITE, "image/jpeg")],
)
def test_a_passed_through_cutout_is_billed_nothing_and_names_no_vendor(
    background: Background, content_type: str
) -> None:
    # Given an upload that is already a cut-out, normalised
    data, normalised = _normalised_cutout()
    # When it is passed through for a transparent or a white background
    cutout = passthrough_cutout(normalised, background, BUDGET)
    # Then it is the input itself (transparent) or the input on pure white (white), billed 0, with no
    # request id, no score, and the passthrough engine's name
    body = cutout.read()
    assert cutout.content_type == content_type
    assert (cutout.usage, cutout.score, cutout.request_id, cutout.engine) == (
        0,
        None,
        None,
        PASSTHROUGH_ENGINE,
    )
    assert (cutout.width, cutout.height) == (300, 200)
    assert cutout.size == len(body)
    result = Image.open(io.BytesIO(body))
    if background is Background.TRANSPARENT:
        assert body == data
    else:
        assert result.mode == "RGB"
        assert result.getpixel((5, 5)) == pytest.approx((255, 255, 255), abs=2)  # the background, white
        assert result.getpixel((150, 100)) == pytest.approx((200, 40, 40), abs=6)  # the subject, kept
