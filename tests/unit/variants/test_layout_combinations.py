"""Every canvas with every way of sizing the subject, held over random masters and subjects.

Canvas: a fixed WxH (landscape, portrait, square), ``square`` (follows the subject) or ``none``.
Sizing: ``fill`` (the subject's longer side is that share of the canvas's longer side, contained),
a pixel margin, a percent margin, or neither. Crop: to the subject or the whole frame. Anchor: all
nine. The rules that must hold for each combination are checked on the numbers of the layout.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutout.profiles import VariantSpec
from cutout.profiles.spec import Anchor
from cutout.variants import Box, plan_layout

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CANVASES = ["1600x1000", "1000x1600", "1200x1200", "square", "none"]
SIZINGS = ["fill", "px", "percent", "nothing"]
COMBINATIONS = [
    (canvas, sizing)
    for canvas in CANVASES
    for sizing in SIZINGS
    if not (canvas == "none" and sizing == "fill")
]


@st.composite
def masters_and_subjects(draw: st.DrawFn) -> tuple[tuple[int, int], Box]:
    width, height = draw(st.integers(200, 3000)), draw(st.integers(200, 3000))
    left, top = draw(st.integers(0, width - 50)), draw(st.integers(0, height - 50))
    right, bottom = draw(st.integers(left + 50, width)), draw(st.integers(top + 50, height))
    return (width, height), Box(left, top, right, bottom)


def _spec(
    canvas: str, sizing: str, value: float, crop: str, anchor: Anchor
) -> tuple[VariantSpec, dict[str, Any]]:
    fields: dict[str, Any] = {"name": "v", "canvas": canvas, "crop": crop, "anchor": anchor.value}
    if sizing == "fill":
        fields["fill"] = round(0.3 + 0.7 * value, 3)
    elif sizing == "px":
        fields["margin"] = f"{round(5 + 60 * value)}px"
    elif sizing == "percent":
        fields["margin"] = f"{round(1 + 20 * value)}%"
    return VariantSpec.model_validate(fields), fields


@pytest.mark.parametrize(("canvas", "sizing"), COMBINATIONS)
@PROPERTY
@given(
    master_and_subject=masters_and_subjects(),
    value=st.floats(0.0, 1.0),
    crop=st.sampled_from(["subject", "none"]),
    anchor=st.sampled_from(list(Anchor)),
)
def test_each_canvas_and_sizing_lays_the_subject_out_by_its_rules(  # noqa: PLR0917
    canvas: str,
    sizing: str,
    master_and_subject: tuple[tuple[int, int], Box],
    value: float,
    crop: str,
    anchor: Anchor,
) -> None:
    # Given a variant of this canvas and sizing, a master and its subject
    master, subject = master_and_subject
    spec, fields = _spec(canvas, sizing, value, crop, anchor)
    region = subject if crop == "subject" else Box(0, 0, *master)
    # When it is laid out
    layout = plan_layout(master, subject, spec)
    (cw, ch), (pw, ph), (x, y) = layout.canvas, layout.placed, layout.offset
    # Then the subject is whole, inside the canvas, and keeps its proportions (within rounding)
    assert layout.source == region
    assert 0 <= x <= cw - pw
    assert 0 <= y <= ch - ph
    assert abs(pw - region.width * layout.scale) <= 1
    assert abs(ph - region.height * layout.scale) <= 1
    # the canvas is the one asked for
    if "x" in canvas:
        assert layout.canvas == tuple(int(side) for side in canvas.split("x"))
    if canvas == "square":
        assert cw == ch
    # fill: the longer side takes that share of the canvas's longer side, unless that would cut it
    if sizing == "fill":
        wanted = fields["fill"] * max(cw, ch)
        if pw < cw and ph < ch:  # not held back by containing
            assert abs(max(pw, ph) - wanted) <= 1.0
        else:
            assert max(pw, ph) <= wanted + 1.0
    # a pixel margin is kept on every side (the canvas may leave more room)
    if sizing == "px":
        margin = int(fields["margin"].removesuffix("px"))
        assert x >= margin - 1
        assert y >= margin - 1
        assert cw - (x + pw) >= margin - 1
        assert ch - (y + ph) >= margin - 1
    # a percent margin is a share of the subject, at the subject's scale, on every side
    if sizing == "percent":
        share = int(fields["margin"].removesuffix("%")) / 100
        assert x >= share * pw - 1
        assert y >= share * ph - 1
        assert cw - (x + pw) >= share * pw - 1
        assert ch - (y + ph) >= share * ph - 1
    # without a canvas the output is the content itself: no free space to place
    if canvas == "none" and sizing == "nothing":
        assert (x, y) == (0, 0)
        assert layout.canvas == layout.placed


@pytest.mark.parametrize("anchor", list(Anchor))
def test_the_anchor_puts_the_free_space_where_it_says(anchor: Anchor) -> None:
    # Given a 400x400 subject placed at fill 0.5 on a wide canvas (free space on both axes)
    spec, _ = _spec("1600x1000", "fill", 2 / 7, "subject", anchor)  # fill = 0.5
    # When it is laid out
    layout = plan_layout((1000, 800), Box(100, 200, 500, 600), spec)
    # Then the subject is 800 px, at the anchor's share of each free space
    fx, fy = anchor.fractions
    assert layout.placed == (800, 800)
    assert layout.offset == (round(800 * fx), round(200 * fy))


@pytest.mark.parametrize("fill", [0.5, 0.8, 0.97, 1.0])
def test_fill_on_a_square_canvas_is_exact(fill: float) -> None:
    # Given a 300x600 subject on a square canvas with this fill
    spec = VariantSpec.model_validate({"name": "v", "canvas": "square", "fill": fill})
    # When it is laid out
    layout = plan_layout((1000, 1000), Box(0, 0, 300, 600), spec)
    # Then its longer side is exactly that share of the canvas side, and it is centred
    side = layout.canvas[0]
    assert layout.placed == (300, 600)
    assert side == round(600 / fill)
    assert layout.offset == (round((side - 300) / 2), round((side - 600) / 2))
