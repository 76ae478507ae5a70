"""Variant layout: crop, margin, canvas, fill, anchor and min/max side, on numbers only."""

from __future__ import annotations

from typing import Any

import pytest

from cutout.profiles import VariantSpec
from cutout.variants import Box, LayoutImpossible, plan_layout

MASTER = (1000, 800)
SUBJECT = Box(100, 200, 500, 600)  # 400 × 400


def spec(**fields: Any) -> VariantSpec:
    return VariantSpec.model_validate({"name": "v", **fields})


def test_crop_to_the_subject_without_a_canvas_is_the_subject_itself() -> None:
    # Given a variant that crops to the subject, with no canvas and no margin
    # When it is laid out
    layout = plan_layout(MASTER, SUBJECT, spec())
    # Then the output is the subject's box, unscaled
    assert layout.source == SUBJECT
    assert layout.canvas == (400, 400)
    assert layout.offset == (0, 0)
    assert layout.scale == 1.0


def test_no_crop_keeps_the_whole_frame() -> None:
    # Given a variant with crop = none
    # When it is laid out
    layout = plan_layout(MASTER, SUBJECT, spec(crop="none"))
    # Then the whole master is the content
    assert layout.source == Box(0, 0, *MASTER)
    assert layout.canvas == MASTER


def test_percent_margins_are_of_the_subject_and_pixel_margins_are_output_pixels() -> None:
    # Given a margin of 10 % top/bottom and 20 px left/right
    # When it is laid out
    layout = plan_layout(MASTER, SUBJECT, spec(margin="10% 20px"))
    # Then the canvas grows by 40 px each way vertically and 20 px each side horizontally
    assert layout.canvas == (440, 480)
    assert layout.offset == (20, 40)


def test_fill_makes_the_subjects_longer_side_that_share_of_the_canvas() -> None:
    # Given Amazon's main-image rule: 85 % of a 2000 × 2000 canvas
    tall = Box(0, 0, 300, 600)
    # When a tall subject is laid out
    layout = plan_layout((300, 600), tall, spec(canvas="2000x2000", fill=0.85, background="white"))
    # Then its longer side is 1700 px, centred
    assert layout.placed == (850, 1700)
    assert layout.canvas == (2000, 2000)
    assert layout.offset == (575, 150)


def test_fill_never_cuts_the_subject_on_a_wide_canvas() -> None:
    # Given a subject taller than a wide canvas can hold at 90 %
    # When it is laid out with fill on a 1000 × 200 canvas
    layout = plan_layout(MASTER, SUBJECT, spec(canvas="1000x200", fill=0.9, background="white"))
    # Then it is contained: the full height, not 90 % of the width
    assert layout.placed == (200, 200)


def test_a_fixed_canvas_contains_the_content_and_the_anchor_places_it() -> None:
    # Given a 1000 × 500 canvas and a bottom anchor
    # When a 400 × 400 subject with 5 % margins is laid out
    layout = plan_layout(MASTER, SUBJECT, spec(canvas="1000x500", margin="5%", anchor="bottom"))
    # Then the content (440 px) scales to the 500 px height and sits at the bottom, centred across
    assert layout.canvas == (1000, 500)
    assert layout.placed == (round(400 * 500 / 440), round(400 * 500 / 440))
    assert layout.offset[0] == round((1000 - 500) / 2 + 20 * 500 / 440)
    assert layout.offset[1] + layout.placed[1] <= 500


@pytest.mark.parametrize(
    ("fields", "canvas"),
    [
        ({"max_side": 200}, (200, 200)),
        ({"min_side": 1000}, (1000, 1000)),
        ({"canvas": "square", "max_side": 300}, (300, 300)),
        ({"canvas": "square", "min_side": 800, "max_side": 600}, None),  # refused: min > max
    ],
)
def test_min_and_max_side_scale_the_output(fields: dict[str, Any], canvas: tuple[int, int] | None) -> None:
    # Given a 400 × 400 subject and side limits
    if canvas is None:
        # When the limits contradict each other, the spec itself is refused
        with pytest.raises(ValueError, match="min_side"):
            spec(**fields)
        return
    # When it is laid out
    layout = plan_layout(MASTER, SUBJECT, spec(**fields))
    # Then the canvas obeys them
    assert layout.canvas == canvas


def test_square_canvas_takes_the_longer_side_and_centres_the_subject() -> None:
    # Given a wide subject
    wide = Box(0, 0, 600, 200)
    # When it is laid out on a square canvas
    layout = plan_layout((600, 200), wide, spec(canvas="square"))
    # Then the canvas is 600 × 600 with the subject in the middle
    assert layout.canvas == (600, 600)
    assert layout.offset == (0, 200)


def test_an_empty_mask_falls_back_to_the_whole_frame() -> None:
    # Given a master with nothing opaque (the quality gate judges it; layout must not crash)
    # When it is laid out with crop = subject
    layout = plan_layout(MASTER, None, spec())
    # Then the whole frame is taken
    assert layout.source == Box(0, 0, *MASTER)


def test_margins_that_fill_the_canvas_are_refused_with_a_reason() -> None:
    # Given pixel margins wider than the canvas
    # When it is laid out
    with pytest.raises(LayoutImpossible) as raised:
        plan_layout(MASTER, SUBJECT, spec(canvas="100x100", margin="60px"))
    # Then the reason says so
    assert raised.value.code == "variant_layout_impossible"
