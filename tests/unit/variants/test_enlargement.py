"""The gate's enlargement rule: a variant that blows the product up past the limit is held, and a photo
too small for every variant of its profile is refused before paying. Both sides of each limit."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from cutout.profiles import load_profiles, parse_profiles
from cutout.quality_gate import MAX_ENLARGEMENT, REVIEW_SCORE, UPSCALED, QualityThresholds, alpha_stats, judge
from cutout.variants.enlargement import (
    ProductTooSmall,
    enlargements,
    least_enlargements,
    refuse_if_too_small,
    refuse_if_too_small_for,
)
from tests.unit.profiles.test_profiles import SHIPPED

DEFAULTS = QualityThresholds()
AMAZON_ONLY = parse_profiles(
    """
default = "amazon"
[profiles.amazon]
variants = [{ preset = "amazon-main" }]
"""
).profiles["amazon"]
STANDARD = load_profiles(SHIPPED).profiles["standard"]


def master_with_product(size: tuple[int, int], product: tuple[int, int]) -> Image.Image:
    """A transparent master of ``size`` with an opaque ``product`` (width, height) in the middle."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    left, top = (size[0] - product[0]) // 2, (size[1] - product[1]) // 2
    ImageDraw.Draw(image).rectangle(
        (left, top, left + product[0] - 1, top + product[1] - 1), fill=(40, 40, 90, 255)
    )
    return image


def test_the_defaults_are_the_documented_ones() -> None:
    # Given the gate's defaults
    # Then "look at this" is one score, and the enlargement limit is 4x
    assert DEFAULTS.min_score == REVIEW_SCORE == 0.8
    assert DEFAULTS.max_enlargement == MAX_ENLARGEMENT == 4.0


def test_a_tiny_product_in_a_tiny_photo_is_held_as_upscaled() -> None:
    # Given the 160x120 photo of issue 26, whose product is 47x85 px, cut out with a confident score
    master = master_with_product((160, 120), (47, 85))
    # When the shipped standard profile's variants are planned and the master judged
    scales = enlargements(master, STANDARD)
    verdict = judge(alpha_stats(master), 0.97, STANDARD.quality, scales)
    # Then amazon-main would enlarge it 20x (1,700 px from 85): held, for that reason alone
    assert scales["amazon-main"] == pytest.approx(1700 / 85, rel=0.01)
    assert scales["web-transparent"] == 1.0
    assert verdict.reasons == (UPSCALED,)


@pytest.mark.parametrize(("product_side", "held"), [(425, False), (424, True), (1700, False), (60, True)])
def test_a_variant_over_the_enlargement_limit_holds_the_cut_out(product_side: int, held: bool) -> None:
    # Given a product whose longer side amazon-main (1,700 px) enlarges 1700/side times
    master = master_with_product((1800, 1800), (product_side // 2, product_side))
    # When it is judged
    scales = enlargements(master, AMAZON_ONLY)
    verdict = judge(alpha_stats(master), 0.97, DEFAULTS, scales)
    # Then exactly 4x passes (425 px) and one pixel less is held as upscaled
    assert (UPSCALED in verdict.reasons) is held


def test_a_profile_can_raise_the_enlargement_limit() -> None:
    # Given a profile that accepts 25x enlargements
    profile = parse_profiles(
        """
default = "thumbs"
[profiles.thumbs]
variants = [{ preset = "amazon-main" }]
quality = { max_enlargement = 25 }
"""
    ).profiles["thumbs"]
    master = master_with_product((160, 120), (47, 85))
    # When the tiny product is judged and its photo checked before paying
    verdict = judge(alpha_stats(master), 0.97, profile.quality, enlargements(master, profile))
    refuse_if_too_small(160, 120, profile)
    # Then it is neither held nor refused
    assert verdict.reasons == ()


@pytest.mark.parametrize(
    ("score", "held"), [(REVIEW_SCORE, False), (0.7999, True), (0.765, True), (0.99, False)]
)
def test_the_review_score_holds_below_and_passes_at_or_above(score: float, held: bool) -> None:
    # Given a good product at its own size
    master = master_with_product((1200, 1200), (700, 900))
    # When it is judged with a score on either side of REVIEW_SCORE (0.765: the linen mug's)
    verdict = judge(alpha_stats(master), score, DEFAULTS, enlargements(master, STANDARD))
    # Then under it is held (low_score), at or over it is published
    assert verdict.held is held


@pytest.mark.parametrize(
    ("size", "refused"),
    [((425, 300), False), ((424, 300), True), ((300, 425), False), ((160, 120), True), ((3000, 2000), False)],
)
def test_a_photo_too_small_for_every_variant_is_refused_before_paying(
    size: tuple[int, int], refused: bool
) -> None:
    # Given a profile of amazon-main alone and a photo whose longer side is on either side of 425 px
    # (1,700 px / 4: even a product filling the photo would be enlarged over 4x)
    # When it is checked before paying
    if refused:
        with pytest.raises(ProductTooSmall) as error:
            refuse_if_too_small(*size, AMAZON_ONLY)
        # Then it is refused, permanently, with a sentence naming the size, the variant and the limit
        assert error.value.code == "product_too_small"
        assert not error.value.retryable
        assert f"{size[0]}×{size[1]}" in error.value.message
        assert "'amazon-main'" in error.value.message
        assert "4×" in error.value.message
    else:
        refuse_if_too_small(*size, AMAZON_ONLY)


def test_a_tiny_photo_is_not_refused_when_one_variant_can_be_made() -> None:
    # Given the shipped standard profile (web-transparent is made at the product's own size)
    # When a 160x120 photo is checked before paying
    # Then it is not refused (the call is worth paying; the gate holds the cut-out afterwards)
    refuse_if_too_small(160, 120, STANDARD)
    assert least_enlargements(160, 120, STANDARD)["web-transparent"] == 1.0


def test_an_unknown_size_or_a_gate_switched_off_refuses_nothing() -> None:
    # Given a source whose size is not known yet, and a profile without a gate
    off = parse_profiles(
        """
default = "raw"
[profiles.raw]
variants = [{ preset = "amazon-main" }]
quality = { enabled = false }
"""
    ).profiles["raw"]
    # When each is checked
    # Then nothing is refused
    refuse_if_too_small_for({}, AMAZON_ONLY)
    refuse_if_too_small_for({"source-width": "0", "source-height": "0"}, AMAZON_ONLY)
    refuse_if_too_small(100, 100, off)
    with pytest.raises(ProductTooSmall):
        refuse_if_too_small_for({"source-width": "160", "source-height": "120"}, AMAZON_ONLY)


@pytest.mark.parametrize(
    ("width", "height"),
    [(w, h) for w in (100, 213, 400, 424, 425, 426, 999, 3000) for h in (100, 300, 424, 425, 2999)],
)
def test_refusal_before_paying_never_contradicts_the_gate_after(width: int, height: int) -> None:
    # Given any photo size, and the most favourable product: one filling the whole photo
    master = master_with_product((width, height), (width, height))
    # When the photo is checked before paying and the master judged after
    refused = False
    try:
        refuse_if_too_small(width, height, AMAZON_ONLY)
    except ProductTooSmall:
        refused = True
    verdict = judge(None, 0.97, DEFAULTS, enlargements(master, AMAZON_ONLY))
    # Then a refused photo is one the gate would have held anyway (nothing publishable is refused)
    if refused:
        assert UPSCALED in verdict.reasons
