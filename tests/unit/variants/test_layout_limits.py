"""The variant limits from both sides: fill's share, a margin's size, the room margins leave, canvas sides."""

from __future__ import annotations

from typing import Any

import pytest

from cutout.profiles import VariantSpec
from cutout.typed import ValidationError
from cutout.variants import Box, LayoutImpossible, plan_layout

SUBJECT = Box(0, 0, 400, 200)
MASTER = (400, 200)


def _valid(**fields: Any) -> bool:
    try:
        VariantSpec.model_validate({"name": "v", **fields})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"canvas": "square", "fill": 1.0}, True),
        ({"canvas": "square", "fill": 1.0001}, False),
        ({"canvas": "square", "fill": 0.0001}, True),
        ({"canvas": "square", "fill": 0.0}, False),
        ({"margin": "100%"}, True),
        ({"margin": "100.01%"}, False),
        ({"margin": "0%"}, True),
        ({"margin": 0}, True),
        ({"margin": -1}, False),
        ({"canvas": "10000x10000"}, True),
        ({"canvas": "10001x10000"}, False),
        ({"canvas": "10000x10001"}, False),
        ({"canvas": "square", "max_side": 10_000}, True),
        ({"canvas": "square", "max_side": 10_001}, False),
        ({"canvas": "square", "min_side": 1}, True),
        ({"canvas": "square", "min_side": 0}, False),
        ({"canvas": "square", "min_side": 500, "max_side": 500}, True),
        ({"canvas": "square", "min_side": 501, "max_side": 500}, False),
    ],
)
def test_each_variant_limit_from_both_sides(fields: dict[str, Any], valid: bool) -> None:
    # Given a variant at one side of a limit
    # When it is validated
    # Then it is accepted or refused (at build and at start: a profile error names it)
    assert _valid(**fields) is valid


@pytest.mark.parametrize(("margin", "possible"), [(199, True), (200, False), (201, False)])
def test_pixel_margins_must_leave_room_on_a_fixed_canvas(margin: int, possible: bool) -> None:
    # Given a 400x400 canvas and pixel margins of 2 x margin on each axis
    spec = VariantSpec.model_validate({"name": "v", "canvas": "400x400", "margin": f"{margin}px"})
    # When it is laid out
    # Then up to one pixel of room the subject is placed; with none it is a layout error
    if possible:
        layout = plan_layout(MASTER, SUBJECT, spec)
        assert layout.placed[0] >= 1
        assert layout.offset[0] >= margin
    else:
        with pytest.raises(LayoutImpossible):
            plan_layout(MASTER, SUBJECT, spec)


@pytest.mark.parametrize(("margin", "possible"), [(249, True), (250, False)])
def test_pixel_margins_must_leave_room_under_max_side(margin: int, possible: bool) -> None:
    # Given max_side 500 and pixel margins of 2 x margin
    spec = VariantSpec.model_validate(
        {"name": "v", "canvas": "square", "max_side": 500, "margin": f"{margin}px"}
    )
    # When it is laid out
    # Then it fits while the margins leave a pixel, and is a layout error when they take it all
    if possible:
        assert max(plan_layout(MASTER, SUBJECT, spec).canvas) <= 500
    else:
        with pytest.raises(LayoutImpossible):
            plan_layout(MASTER, SUBJECT, spec)


@pytest.mark.parametrize(
    ("min_side", "max_side", "side"),
    [(None, 399, 399), (None, 400, 400), (None, 401, 400), (401, None, 401), (400, None, 400)],
)
def test_square_min_and_max_side_from_both_sides(
    min_side: int | None, max_side: int | None, side: int
) -> None:
    # Given a square canvas around a 400-wide subject, with min_side or max_side near 400
    fields: dict[str, Any] = {"name": "v", "canvas": "square"}
    if min_side is not None:
        fields["min_side"] = min_side
    if max_side is not None:
        fields["max_side"] = max_side
    # When it is laid out
    layout = plan_layout(MASTER, SUBJECT, VariantSpec.model_validate(fields))
    # Then the canvas is scaled down only above max_side, up only below min_side
    assert layout.canvas == (side, side)
