"""The quality gate alone: each reason from a mask made for it, and good masks pass."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from cutout.profiles import parse_profiles
from cutout.quality_gate import (
    CUT_BY_FRAME,
    EMPTY_MASK,
    FRAGMENTED,
    LOW_SCORE,
    TOO_SMALL,
    WHOLE_FRAME,
    QualityThresholds,
    alpha_stats,
    alpha_stats_of_stream,
    judge,
)

DEFAULTS = QualityThresholds()


def mask(draw: str, size: tuple[int, int] = (1200, 900)) -> Image.Image:
    """An RGBA cut-out whose opaque part is described by ``draw``."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    w, h = size
    shapes = {
        "product": lambda: pen.ellipse((w * 0.25, h * 0.15, w * 0.75, h * 0.9), fill=(200, 30, 30, 255)),
        "product-on-floor": lambda: pen.rectangle((w * 0.3, h * 0.2, w * 0.7, h - 1), fill=(9, 9, 9, 255)),
        "pair": lambda: (
            pen.ellipse((w * 0.1, h * 0.3, w * 0.45, h * 0.8), fill=(9, 9, 9, 255)),
            pen.ellipse((w * 0.55, h * 0.3, w * 0.9, h * 0.8), fill=(9, 9, 9, 255)),
        ),
        "empty": lambda: None,
        "speck": lambda: pen.rectangle((w * 0.5, h * 0.5, w * 0.5 + 80, h * 0.5 + 80), fill=(9, 9, 9, 255)),
        "nothing": lambda: pen.ellipse((w * 0.5, h * 0.5, w * 0.5 + 20, h * 0.5 + 20), fill=(9, 9, 9, 255)),
        "whole": lambda: pen.rectangle((0, 0, w, h), fill=(9, 9, 9, 255)),
        "cropped": lambda: pen.rectangle((w * 0.4, -10, w + 10, h * 0.7), fill=(9, 9, 9, 255)),
        "confetti": lambda: [
            pen.ellipse((x, y, x + 40, y + 40), fill=(9, 9, 9, 255))
            for x in range(60, w - 60, 120)
            for y in range(60, h - 60, 120)
        ],
    }
    shapes[draw]()
    return image


@pytest.mark.parametrize(
    ("drawing", "reasons"),
    [
        ("product", ()),
        ("product-on-floor", ()),  # standing on the bottom edge is one side: fine
        ("pair", ()),
        ("empty", (EMPTY_MASK,)),
        ("whole", (WHOLE_FRAME,)),
        ("cropped", (CUT_BY_FRAME,)),
        ("speck", (TOO_SMALL,)),
        ("nothing", (EMPTY_MASK,)),
        ("confetti", (FRAGMENTED,)),
    ],
)
def test_each_kind_of_mask_gets_its_verdict(drawing: str, reasons: tuple[str, ...]) -> None:
    # Given a cut-out drawn for the case, with a confident score
    stats = alpha_stats(mask(drawing))
    # When it is judged with the default thresholds
    verdict = judge(stats, 0.95, DEFAULTS)
    # Then exactly the expected reasons hold it back (none: published)
    assert verdict.reasons == reasons


def test_a_low_score_holds_even_a_good_mask() -> None:
    # Given a good mask with a score the engine doubts
    stats = alpha_stats(mask("product"))
    # When it is judged
    verdict = judge(stats, 0.1, DEFAULTS)
    # Then the score alone holds it
    assert verdict.reasons == (LOW_SCORE,)


def test_without_alpha_only_the_score_is_judged() -> None:
    # Given a white-background JPEG cut-out (no alpha) with a low score
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 255, 255)).save(buffer, "JPEG")
    stats = alpha_stats_of_stream(buffer)
    # When it is judged
    verdict = judge(stats, 0.1, DEFAULTS)
    # Then there are no mask facts, the score still holds it, and the stream is rewound
    assert stats is None
    assert verdict.reasons == (LOW_SCORE,)
    assert buffer.tell() == 0


def test_stats_hardly_depend_on_the_size_of_the_master() -> None:
    # Given the same drawing at two sizes
    small = alpha_stats(mask("product", (600, 450)))
    large = alpha_stats(mask("product", (3000, 2250)))
    # When their shares are compared
    # Then they agree within a percent
    assert small is not None
    assert large is not None
    assert abs(small.opaque_share - large.opaque_share) < 0.01
    assert abs(small.subject_share - large.subject_share) < 0.01
    assert small.edges_touched == large.edges_touched == ()


def test_a_profile_can_tune_or_switch_off_its_gate() -> None:
    # Given a profiles file where one profile accepts subjects cut by the frame and one has no gate
    profiles = parse_profiles(
        """
default = "shop"
[profiles.shop]
variants = [{ name = "main", format = "png" }]
[profiles.shop.quality]
max_edges_touched = 4
min_score = 0.5
[profiles.raw]
prefixes = ["raw/"]
variants = [{ name = "main", format = "png" }]
quality = { enabled = false }
"""
    )
    # When each profile's thresholds judge a cropped product
    stats = alpha_stats(mask("cropped"))
    shop, raw = profiles.profiles["shop"].quality, profiles.profiles["raw"].quality
    # Then both publish it, and unset fields keep their defaults
    assert judge(stats, 0.95, shop).reasons == ()
    assert judge(stats, 0.0, raw).reasons == ()
    assert shop.min_opaque_share == DEFAULTS.min_opaque_share


def test_a_wrong_quality_field_is_named_with_its_profile() -> None:
    # Given a threshold out of range
    text = """
default = "shop"
[profiles.shop]
variants = [{ name = "main", format = "png" }]
quality = { min_score = 2 }
"""
    # When the file is parsed
    from cutout.profiles import ProfilesError

    with pytest.raises(ProfilesError) as error:
        parse_profiles(text, "profiles.toml")
    # Then the message names the file, the profile and the field
    assert "profiles.toml: profile 'shop': quality.min_score" in str(error.value)
