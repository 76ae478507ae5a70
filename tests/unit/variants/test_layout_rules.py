"""Every rule of the variant layout on exact numbers: each canvas kind with each way of sizing.

The tables below are worked by hand from the rules (``cutout.variants.layout``'s docstrings):
``fill`` on a square canvas with ``min_side``/``max_side`` from both sides, ``fill`` contained on
a fixed canvas limited by either side, ``min_side``/``max_side`` on ``none`` and ``square``
canvases (the shortest side reaches ``min_side``; a square's side is the longer content side;
``max_side`` wins a conflict), pixel margins that leave no room under ``max_side`` from both sides,
every side of a margin in pixels and in percent, the anchor on every canvas, and the one-pixel
outputs at the bottom of the range.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutout.profiles import VariantSpec
from cutout.profiles.spec import Anchor
from cutout.variants import Box, LayoutImpossible, plan_layout

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WIDE = Box(0, 0, 400, 200)  # a 400 x 200 subject, the whole master
TALL = Box(0, 0, 300, 600)


def spec(**fields: Any) -> VariantSpec:
    return VariantSpec.model_validate({"name": "v", **fields})


def test_a_box_is_right_and_bottom_exclusive() -> None:
    # Given a box from (1, 2) to (5, 9)
    box = Box(1, 2, 5, 9)
    # When its size and tuple are read
    # Then they follow Pillow's convention: right/bottom exclusive, (left, top, right, bottom)
    assert (box.width, box.height) == (4, 7)
    assert box.as_tuple() == (1, 2, 5, 9)


@pytest.mark.parametrize(
    ("limits", "side"),
    [
        # fill 0.5 of a 600-px subject: a 1200-px square, then min_side / max_side
        ({}, 1200),
        ({"max_side": 600}, 600),
        ({"max_side": 1199}, 1199),
        ({"max_side": 1200}, 1200),
        ({"max_side": 1201}, 1200),
        ({"min_side": 2400}, 2400),
        ({"min_side": 1201}, 1201),
        ({"min_side": 1200}, 1200),
        ({"min_side": 1199}, 1200),
        ({"min_side": 1000, "max_side": 1100}, 1100),
        ({"min_side": 1300, "max_side": 1400}, 1300),
        ({"min_side": 1000, "max_side": 1400}, 1200),
    ],
)
def test_fill_on_a_square_canvas_obeys_min_and_max_side(limits: dict[str, int], side: int) -> None:
    # Given a 300 x 600 subject taking half of a square canvas, and side limits
    variant = spec(canvas="square", fill=0.5, **limits)
    # When it is laid out
    layout = plan_layout((300, 600), TALL, variant)
    # Then the canvas is the 1200-px square scaled down only above max_side, up only below min_side,
    # and the subject keeps its share of it, centred
    assert layout.canvas == (side, side)
    assert layout.scale == pytest.approx(side / 1200)
    assert layout.placed == (round(300 * side / 1200), round(600 * side / 1200))
    assert layout.offset == (round((side - layout.placed[0]) / 2), round((side - layout.placed[1]) / 2))


@pytest.mark.parametrize(
    ("canvas", "subject", "scale", "placed", "offset"),
    [
        # the longer side takes fill of the canvas's longer side: held back by nothing
        ("1000x600", WIDE, 2.0, (800, 400), (100, 100)),
        # ... held back by the canvas's width (a wide subject on a portrait canvas)
        ("600x1000", WIDE, 1.5, (600, 300), (0, 350)),
        # ... held back by the canvas's height (a square subject on a wide strip)
        ("1000x200", Box(0, 0, 400, 400), 0.5, (200, 200), (400, 0)),
        # ... held back by the canvas's width (a square subject on a tall strip)
        ("200x1000", Box(0, 0, 400, 400), 0.5, (200, 200), (0, 400)),
    ],
)
def test_fill_on_a_fixed_canvas_is_contained_by_either_side(
    canvas: str, subject: Box, scale: float, placed: tuple[int, int], offset: tuple[int, int]
) -> None:
    # Given fill 0.8 on a fixed canvas
    variant = spec(canvas=canvas, fill=0.8)
    # When the subject is laid out
    layout = plan_layout((subject.width, subject.height), subject, variant)
    # Then it takes 80 % of the longer canvas side unless that would cut it, centred
    assert layout.scale == pytest.approx(scale)
    assert layout.placed == placed
    assert layout.offset == offset


@pytest.mark.parametrize(
    ("fields", "canvas", "placed", "offset"),
    [
        # min_side: the shortest side reaches it (none), the longer content side does (square)
        ({"min_side": 1000}, (2000, 1000), (2000, 1000), (0, 0)),
        ({"canvas": "square", "min_side": 1000}, (1000, 1000), (1000, 500), (0, 250)),
        # ... with pixel margins, which do not scale
        ({"min_side": 1000, "margin": "100px"}, (1800, 1000), (1600, 800), (100, 100)),
        ({"canvas": "square", "min_side": 1000, "margin": "100px"}, (1000, 1000), (800, 400), (100, 300)),
        # ... with percent margins, which do
        ({"min_side": 480, "margin": "10%"}, (960, 480), (800, 400), (80, 40)),
        # min_side already reached: no resize (never scaled down by min_side)
        ({"min_side": 100}, (400, 200), (400, 200), (0, 0)),
        ({"min_side": 200}, (400, 200), (400, 200), (0, 0)),
        ({"canvas": "square", "min_side": 100}, (400, 400), (400, 200), (0, 100)),
        # max_side: the longer side is held to it
        ({"max_side": 100}, (100, 50), (100, 50), (0, 0)),
        ({"max_side": 100, "margin": "10px"}, (100, 60), (80, 40), (10, 10)),
        ({"canvas": "square", "max_side": 100}, (100, 100), (100, 50), (0, 25)),
        ({"max_side": 400}, (400, 200), (400, 200), (0, 0)),
        ({"max_side": 1000}, (400, 200), (400, 200), (0, 0)),
        # a percent margin scales with the subject, a pixel margin stays (top/bottom 10 %, sides 20 px)
        ({"max_side": 220, "margin": "10% 20px"}, (220, 108), (180, 90), (20, 9)),
        # max_side wins over min_side
        ({"min_side": 500, "max_side": 500}, (500, 250), (500, 250), (0, 0)),
        ({"canvas": "square", "min_side": 500, "max_side": 500}, (500, 500), (500, 250), (0, 125)),
    ],
)
def test_min_and_max_side_on_a_canvas_that_follows_the_content(
    fields: dict[str, Any], canvas: tuple[int, int], placed: tuple[int, int], offset: tuple[int, int]
) -> None:
    # Given a 400 x 200 subject on a canvas that follows it (none or square), and side limits
    # When it is laid out
    layout = plan_layout((400, 200), WIDE, spec(**fields))
    # Then the canvas, the subject's size and its place are the worked figures
    assert (layout.canvas, layout.placed, layout.offset) == (canvas, placed, offset)


@pytest.mark.parametrize(("canvas", "margin"), [(c, m) for c in ("none", "square") for m in (9, 10, 11)])
def test_pixel_margins_that_take_all_of_max_side_are_refused(canvas: str, margin: int) -> None:
    # Given max_side 20 and pixel margins of 2 x margin on each axis
    variant = spec(canvas=canvas, max_side=20, margin=f"{margin}px")
    # When it is laid out
    if margin < 10:
        # Then while they leave a pixel or more the subject is placed inside them
        layout = plan_layout((400, 200), WIDE, variant)
        assert max(layout.canvas) == 20
        assert layout.placed[0] >= 1
        assert layout.offset[0] == margin
        return
    # Then once they take it all it is a layout error that names the variant
    with pytest.raises(LayoutImpossible, match=r"Variant 'v': its pixel margins alone exceed max_side\."):
        plan_layout((400, 200), WIDE, variant)


@pytest.mark.parametrize(("size", "possible"), [(99, False), (100, False), (101, True)])
def test_a_fixed_canvas_must_leave_room_inside_its_margins(size: int, possible: bool) -> None:
    # Given a size x size canvas with 50 px margins on every side
    variant = spec(canvas=f"{size}x{size}", margin="50px")
    # When a subject is laid out
    # Then one pixel of room is enough; none is a layout error naming the variant and its canvas
    if possible:
        layout = plan_layout((400, 200), WIDE, variant)
        assert layout.canvas == (101, 101)
        assert layout.offset[0] == 50
        return
    with pytest.raises(LayoutImpossible) as raised:
        plan_layout((400, 200), WIDE, variant)
    assert raised.value.code == "variant_layout_impossible"
    assert str(raised.value).endswith(
        f"Variant 'v': its margins leave no room for the subject on a {size}x{size} canvas."
    )


def test_a_fixed_canvas_the_subjects_own_size_is_not_refused() -> None:
    # Given a 400 x 400 subject and a 400 x 400 canvas (a scale of exactly 1)
    # When it is laid out
    layout = plan_layout((400, 400), Box(0, 0, 400, 400), spec(canvas="400x400"))
    # Then it fills the canvas, unscaled
    assert (layout.scale, layout.placed, layout.offset) == (1.0, (400, 400), (0, 0))


@pytest.mark.parametrize("anchor", list(Anchor))
@pytest.mark.parametrize(
    ("canvas", "margin", "placed", "free", "lead"),
    [
        # 50 px margins: free room below/above (1000x1000) or beside (2000x600) the content
        ("1000x1000", "50px", (900, 450), (0, 450), (50, 50)),
        ("2000x600", "50px", (1000, 500), (900, 0), (50, 50)),
        # 10 % margins scale with the subject: 40 and 20 px at scale 1, x 25/12 here
        ("1000x1000", "10%", (833, 417), (0, 500), (40 * 25 / 12, 20 * 25 / 12)),
    ],
)
def test_the_anchor_places_the_content_on_a_fixed_canvas_after_its_leading_margin(  # noqa: PLR0917
    anchor: Anchor,
    canvas: str,
    margin: str,
    placed: tuple[int, int],
    free: tuple[int, int],
    lead: tuple[float, float],
) -> None:
    # Given a 400 x 200 subject with margins on a fixed canvas that leaves room on one axis
    variant = spec(canvas=canvas, margin=margin, anchor=anchor.value)
    # When it is laid out
    layout = plan_layout((400, 200), WIDE, variant)
    # Then the anchor's share of the free room, then the left/top margin, come before the subject
    fx, fy = anchor.fractions
    assert layout.placed == placed
    assert layout.offset == (round(free[0] * fx + lead[0]), round(free[1] * fy + lead[1]))


@pytest.mark.parametrize("anchor", list(Anchor))
@pytest.mark.parametrize(
    ("margin", "canvas", "offset"),
    [
        ("10px", (420, 220), (10, 10)),
        ("5% 10%", (480, 220), (40, 10)),  # top/bottom 5 % of 200, left/right 10 % of 400
        ("1px 2px 3px 4px", (406, 204), (4, 1)),  # CSS order: top right bottom left
        ("10% 20px 5% 1%", (424, 230), (4, 20)),  # top 20, right 20, bottom 10, left 4
        ("1% 2% 3% 4%", (424, 208), (16, 2)),
        ("0px 0px 0px 7px", (407, 200), (7, 0)),
        ("0% 0% 3% 0%", (400, 206), (0, 0)),
    ],
)
def test_without_a_canvas_every_margin_side_adds_its_own_length(
    anchor: Anchor, margin: str, canvas: tuple[int, int], offset: tuple[int, int]
) -> None:
    # Given a 400 x 200 subject, no canvas, and a margin given per side (pixels or percent)
    variant = spec(margin=margin, anchor=anchor.value)
    # When it is laid out
    layout = plan_layout((400, 200), WIDE, variant)
    # Then each side adds its length, the subject sits after the left and top ones, unscaled,
    # and the anchor has no free room to move it in
    assert (layout.canvas, layout.placed, layout.offset) == (canvas, (400, 200), offset)


@st.composite
def margin_sides(draw: st.DrawFn) -> str:
    sides = [
        f"{draw(st.integers(0, 100))}%" if draw(st.booleans()) else f"{draw(st.integers(0, 300))}px"
        for _ in range(4)
    ]
    return " ".join(sides)


@PROPERTY
@given(
    width=st.integers(1, 30).map(lambda k: 100 * k),
    height=st.integers(1, 30).map(lambda k: 100 * k),
    margin=margin_sides(),
    anchor=st.sampled_from(list(Anchor)),
    square=st.booleans(),
)
def test_the_content_is_the_subject_and_its_margins_over_any_sizes(
    width: int, height: int, margin: str, anchor: Anchor, square: bool
) -> None:
    # Given a subject whose sides are whole hundreds (so every percent margin is whole pixels)
    subject = Box(0, 0, width, height)
    variant = spec(margin=margin, anchor=anchor.value, canvas="square" if square else "none")
    top, right, bottom, left = (
        int(part[:-1]) * (height if index % 2 == 0 else width) // 100
        if part.endswith("%")
        else int(part[:-2])
        for index, part in enumerate(margin.split())
    )
    content = (left + width + right, top + height + bottom)
    # When it is laid out
    layout = plan_layout((width, height), subject, variant)
    # Then the subject is unscaled, the canvas is the content (its longer side squared),
    # and the subject sits at the anchor's share of what is free plus the left and top margins
    side = max(content)
    canvas = (side, side) if square else content
    free = (canvas[0] - content[0], canvas[1] - content[1])
    fx, fy = anchor.fractions
    assert layout.scale == 1.0
    assert layout.placed == (width, height)
    assert layout.canvas == canvas
    assert layout.offset == (round(free[0] * fx + left), round(free[1] * fy + top))


@PROPERTY
@given(
    subject=st.tuples(st.integers(1, 3000), st.integers(1, 3000)),
    canvas=st.sampled_from(["square", "2000x2000", "1600x1000", "1000x1600", "7x5"]),
    fill=st.integers(1, 1000).map(lambda n: n / 1000),
    anchor=st.sampled_from(list(Anchor)),
)
def test_with_fill_the_free_room_is_what_the_placed_subject_leaves(
    subject: tuple[int, int], canvas: str, fill: float, anchor: Anchor
) -> None:
    # Given fill on a square or fixed canvas, any subject and any anchor
    variant = spec(canvas=canvas, fill=fill, anchor=anchor.value)
    # When it is laid out
    layout = plan_layout(subject, Box(0, 0, *subject), variant)
    # Then the subject's pixels (rounded) are what the anchor places in the canvas's room: no margin
    (cw, ch), (pw, ph) = layout.canvas, layout.placed
    fx, fy = anchor.fractions
    assert 1 <= pw <= cw
    assert 1 <= ph <= ch
    assert layout.offset == (round((cw - pw) * fx), round((ch - ph) * fy))


@pytest.mark.parametrize(
    ("master", "fields", "canvas", "placed", "offset"),
    [
        # a one-pixel-high subject shrunk on a fixed canvas: still one pixel, centred
        ((400, 1), {"canvas": "100x100"}, (100, 100), (100, 1), (0, 50)),
        ((1, 400), {"canvas": "100x100", "anchor": "left"}, (100, 100), (1, 100), (0, 0)),
        # ... shrunk without a canvas: a one-pixel canvas side
        ((400, 1), {"max_side": 100}, (100, 1), (100, 1), (0, 0)),
        ((1, 400), {"max_side": 100}, (1, 100), (1, 100), (0, 0)),
        # a one-pixel subject on a square canvas, with and without fill
        ((1, 1), {"canvas": "square"}, (1, 1), (1, 1), (0, 0)),
        ((1, 1), {"canvas": "square", "fill": 1.0}, (1, 1), (1, 1), (0, 0)),
        ((1, 1), {}, (1, 1), (1, 1), (0, 0)),
        ((2, 1), {"canvas": "square"}, (2, 2), (2, 1), (0, 0)),
    ],
)
def test_the_smallest_outputs_keep_one_pixel_and_no_more(
    master: tuple[int, int],
    fields: dict[str, Any],
    canvas: tuple[int, int],
    placed: tuple[int, int],
    offset: tuple[int, int],
) -> None:
    # Given a subject that is, or is scaled to, one pixel on a side
    # When it is laid out
    layout = plan_layout(master, Box(0, 0, *master), spec(**fields))
    # Then that side is one pixel (never zero, never padded to two)
    assert (layout.canvas, layout.placed, layout.offset) == (canvas, placed, offset)
