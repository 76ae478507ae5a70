"""Shadows (contact, drop, reflection) drawn from the master's alpha: background for every layout rule."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from cutout.profiles import VariantSpec
from cutout.profiles.spec import Shadow
from cutout.typed import ValidationError
from cutout.variants import compose, plan_layout, render_variant, subject_box
from cutout.variants.shadow import LOSSY_GUARD, clear_zone

WHITE = (255, 255, 255)
RED = (200, 30, 20)


def spec(**fields: Any) -> VariantSpec:
    return VariantSpec.model_validate({"name": "v", **fields})


def product(
    size: tuple[int, int] = (300, 400), box: tuple[int, int, int, int] = (60, 40, 240, 360)
) -> Image.Image:
    """A red product with a soft edge on a transparent master."""
    alpha = Image.new("L", size, 0)
    ImageDraw.Draw(alpha).rounded_rectangle(box, radius=20, fill=255)
    image = Image.new("RGB", size, RED)
    image.putalpha(alpha.filter(ImageFilter.GaussianBlur(1.5)))
    return image


def red_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The box of the product's own (red) pixels: a grey shadow is not red."""
    rgb = image.convert("RGB")
    red, green, _ = rgb.split()
    mask = ImageChops.subtract(red, green).point(lambda value: 255 if value > 60 else 0)
    box = mask.getbbox()
    assert box is not None
    return box


def clear_band_equal(shadowed: Image.Image, plain: Image.Image, subject: tuple[int, int, int, int]) -> bool:
    """Whether every pixel in the outer half of each margin is the same in both images."""
    width, height = shadowed.size
    left, top, right, bottom = subject
    strips = [
        (0, 0, -(-left // 2), height),
        (width - (-(-(width - right) // 2)), 0, width, height),
        (0, 0, width, -(-top // 2)),
        (0, height - (-(-(height - bottom) // 2)), width, height),
    ]
    for box in strips:
        if box[2] <= box[0] or box[3] <= box[1]:
            continue
        difference = ImageChops.difference(shadowed.crop(box).convert("RGB"), plain.crop(box).convert("RGB"))
        if difference.getbbox() is not None:
            return False
    return True


# -- the field, as a user writes it ---------------------------------------------------------------


def test_a_mode_alone_takes_the_modes_defaults() -> None:
    # Given a variant asking for a drop shadow by its mode's name only
    variant = spec(format="jpeg", background="white", shadow="drop")
    # When its shadow is read
    shadow = variant.shadow
    # Then it is a drop shadow cast down-right, a little away, soft and light
    assert shadow is not None
    assert shadow.mode == "drop"
    assert shadow.direction == 135.0
    assert str(shadow.distance) == "2.5%"
    assert 0 < shadow.opacity < 1


def test_none_is_no_shadow_so_a_preset_with_one_can_be_turned_off() -> None:
    # Given a variant that writes shadow = "none"
    # When it is validated
    variant = spec(shadow="none")
    # Then it has no shadow
    assert variant.shadow is None


@pytest.mark.parametrize(
    ("shadow", "field"),
    [
        ({"mode": "contact", "direction": 90}, "direction"),  # a contact shadow is cast nowhere
        ({"mode": "reflection", "softness": "2%"}, "softness"),
        ({"mode": "drop", "fade": "10%"}, "fade"),
        ({"mode": "drop", "opacity": 1.01}, "opacity"),
        ({"mode": "drop", "opacity": -0.01}, "opacity"),
        ({"mode": "drop", "direction": 360.5}, "direction"),
        ({"mode": "drop", "distance": "far"}, "distance"),
        ({"mode": "drop", "blur": 3}, "blur"),  # not a field at all
        ({"mode": "glow"}, "mode"),
    ],
)
def test_a_wrong_shadow_is_refused_naming_its_field(shadow: dict[str, Any], field: str) -> None:
    # Given a shadow with one wrong field
    # When the variant is validated
    with pytest.raises(ValidationError) as raised:
        spec(shadow=shadow)
    # Then the error is located at shadow.<field>
    assert raised.value.errors()[0]["loc"] == ("shadow", field)


@pytest.mark.parametrize(
    ("field", "value"), [("opacity", 0.0), ("opacity", 1.0), ("direction", 0), ("direction", 360)]
)
def test_the_limits_of_a_shadow_are_accepted(field: str, value: float) -> None:
    # Given a drop shadow at one limit of a field
    # When it is validated
    shadow = Shadow.model_validate({"mode": "drop", field: value})
    # Then it holds that value
    assert getattr(shadow, field) == value


# -- where it goes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("direction", "dx", "dy"), [(90, 1, 0), (180, 0, 1), (270, -1, 0), (0, 0, -1)])
def test_a_drop_shadow_falls_toward_its_direction(direction: int, dx: int, dy: int) -> None:
    # Given a product on a transparent canvas with room all round
    master = product()
    variant = spec(margin="30%", shadow={"mode": "drop", "direction": direction, "distance": "10%"})
    # When it is composed
    image = compose(master, variant)
    # Then the shadow (alpha outside the product) lies on the side the direction names
    plain = compose(master, spec(margin="30%"))
    shadow_only = ImageChops.subtract(image.getchannel("A"), plain.getchannel("A"))
    box = shadow_only.getbbox()
    subject = plain.getchannel("A").getbbox()
    assert box is not None
    assert subject is not None
    shadow_centre = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    subject_centre = ((subject[0] + subject[2]) / 2, (subject[1] + subject[3]) / 2)
    assert (
        (shadow_centre[0] - subject_centre[0]) * dx >= 0
        if dx
        else abs(shadow_centre[0] - subject_centre[0]) < 3
    )
    assert (
        (shadow_centre[1] - subject_centre[1]) * dy >= 0
        if dy
        else abs(shadow_centre[1] - subject_centre[1]) < 3
    )
    assert box != subject  # it moved


def test_a_contact_shadow_sits_at_the_base_and_a_reflection_below_it() -> None:
    # Given a product on white with room under it
    master = product()
    plain = compose(master, spec(format="jpeg", background="white", margin="40%"))
    _, _, _, base = red_box(plain)
    for mode in ("contact", "reflection"):
        # When it is composed with the shadow
        image = compose(master, spec(format="jpeg", background="white", margin="40%", shadow=mode))
        # Then what changed is around the base and below it, never above the product's middle
        changed = ImageChops.difference(image, plain).convert("L").point(lambda v: 255 if v > 2 else 0)
        box = changed.getbbox()
        assert box is not None, mode
        assert box[1] >= base - (base // 10), mode
        assert box[3] > base, mode


def test_a_transparent_variant_carries_its_shadow_in_the_alpha() -> None:
    # Given a transparent PNG variant with a drop shadow
    master = product()
    # When it is composed
    image = compose(master, spec(margin="20%", shadow="drop"))
    plain = compose(master, spec(margin="20%"))
    # Then some pixels outside the product are partly opaque and black, none fully opaque
    extra = ImageChops.subtract(image.getchannel("A"), plain.getchannel("A"))
    assert extra.getextrema()[1] > 20
    assert extra.getextrema()[1] < 255
    outside = plain.getchannel("A").point(lambda value: 255 if value == 0 else 0)
    shadow_only = Image.composite(image, Image.new("RGBA", image.size, (0, 0, 0, 0)), outside)
    assert shadow_only.getchannel("A").getextrema()[1] > 20
    assert shadow_only.convert("RGB").getextrema() == ((0, 0), (0, 0), (0, 0))


def test_an_invisible_shadow_changes_nothing() -> None:
    # Given a drop shadow of opacity 0
    master = product()
    # When the variant is composed with and without it
    with_shadow = compose(
        master, spec(format="jpeg", background="white", margin="20%", shadow={"mode": "drop", "opacity": 0})
    )
    without = compose(master, spec(format="jpeg", background="white", margin="20%"))
    # Then the pixels are the same
    assert ImageChops.difference(with_shadow, without).getbbox() is None


# -- the rules it must not break ---------------------------------------------------------------------


def test_with_a_shadow_the_product_still_fills_amazons_85_percent_and_the_margins_stay_pure_white() -> None:
    # Given a product master and Amazon's main-image preset with each kind of shadow
    master = product((1200, 1600), (250, 180, 850, 1450))
    plain = render_variant(master, VariantSpec.model_validate({"preset": "amazon-main"}))
    plain_image = Image.open(io.BytesIO(plain.body)).convert("RGB")
    for mode in ("contact", "drop", "reflection"):
        # When the preset is rendered with the shadow and its JPEG decoded
        variant = VariantSpec.model_validate({"preset": "amazon-main", "shadow": mode})
        image = Image.open(io.BytesIO(render_variant(master, variant).body)).convert("RGB")
        # Then the product (its red pixels), not product and shadow, takes 85 % of the frame
        left, top, right, bottom = red_box(image)
        assert abs(max(right - left, bottom - top) / 2000 - 0.85) <= 0.005, mode
        # and the shadow is there (something not red and not white outside the product)
        assert ImageChops.difference(image, plain_image).getbbox() is not None, mode
        # and the outer half of every margin, corners included, is exactly 255 as without a shadow
        assert clear_band_equal(image, plain_image, (left, top, right, bottom)), mode
        assert image.getpixel((0, 0)) == WHITE
        assert image.getpixel((1999, 1999)) == WHITE


def test_a_clear_zone_keeps_the_outer_half_of_each_margin_and_a_guard_for_lossy_formats() -> None:
    # Given a 1000 x 800 canvas with the subject at (100, 200)-(900, 600)
    # When the zone a shadow may use is worked out, lossless then lossy
    lossless = clear_zone((1000, 800), (100, 200, 900, 600), lossy=False)
    lossy = clear_zone((1000, 800), (100, 200, 900, 600), lossy=True)
    # Then it is the inner half of each margin, less the guard when lossy
    assert lossless == (50, 100, 950, 700)
    assert lossy == (50 + LOSSY_GUARD, 100 + LOSSY_GUARD, 950 - LOSSY_GUARD, 700 - LOSSY_GUARD)
    # and a 1 px margin keeps its one edge pixel
    assert clear_zone((10, 10), (1, 1, 9, 9), lossy=False) == (1, 1, 9, 9)


@st.composite
def scenes(draw: st.DrawFn) -> tuple[Image.Image, VariantSpec, VariantSpec]:
    """A random master (a few random blobs, a soft edge) and a random layout, with and without a shadow."""
    width, height = draw(st.integers(40, 220)), draw(st.integers(40, 220))
    alpha = Image.new("L", (width, height), 0)
    pen = ImageDraw.Draw(alpha)
    for _ in range(draw(st.integers(1, 4))):
        x0, y0 = draw(st.integers(0, width - 2)), draw(st.integers(0, height - 2))
        x1, y1 = draw(st.integers(x0 + 1, width - 1)), draw(st.integers(y0 + 1, height - 1))
        shape = pen.ellipse if draw(st.booleans()) else pen.rectangle
        shape((x0, y0, x1, y1), fill=draw(st.integers(60, 255)))
    alpha = alpha.filter(ImageFilter.GaussianBlur(draw(st.sampled_from([0, 1, 2]))))
    master = Image.new("RGB", (width, height), (draw(st.integers(0, 200)), 90, draw(st.integers(0, 200))))
    master.putalpha(alpha)
    layout: dict[str, Any] = draw(
        st.sampled_from(
            [
                {"canvas": "200x200", "fill": 0.85},
                {"canvas": "240x160", "fill": 0.9},
                {"canvas": "square", "fill": 0.8},
                {"canvas": "none", "margin": "25%"},
                {"canvas": "180x260", "margin": "12px", "anchor": "bottom"},
            ]
        )
    )
    mode = draw(st.sampled_from(["contact", "drop", "reflection"]))
    shadow: dict[str, Any] = {"mode": mode, "opacity": draw(st.floats(0.05, 1.0))}
    if mode == "drop":
        shadow |= {"direction": draw(st.floats(0, 360)), "distance": f"{draw(st.integers(0, 40))}%"}
    if mode != "reflection":
        shadow["softness"] = f"{draw(st.integers(0, 30))}px"
    else:
        shadow |= {"distance": f"{draw(st.integers(0, 10))}px", "fade": f"{draw(st.integers(5, 80))}%"}
    fields = {
        "format": draw(st.sampled_from(["png", "jpeg"])),
        "background": "white",
        "clear_margins": True,
        **layout,
    }
    return master, spec(**fields, shadow=shadow), spec(**fields)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_a_shadow_never_moves_the_product_never_leaves_the_canvas_and_never_touches_a_clear_margin(
    scene: tuple[Image.Image, VariantSpec, VariantSpec],
) -> None:
    # Given any master, any layout and any shadow, on a white background whose margins must stay clear
    master, shadowed_spec, plain_spec = scene
    box = subject_box(master)
    # When the variant is composed with the shadow and without it
    layout = plan_layout(master.size, box, plain_spec)
    shadowed = compose(master, shadowed_spec)
    plain = compose(master, plain_spec)
    # Then the layout is the same (the shadow is background: fill and margins are the product's)
    assert plan_layout(master.size, box, shadowed_spec) == layout
    assert shadowed.size == plain.size == layout.canvas
    # and where the product is opaque, nothing changed
    opaque = Image.new("L", layout.canvas, 0)
    placed = master.crop(layout.source.as_tuple()).resize(layout.placed, Image.Resampling.LANCZOS)
    opaque.paste(placed.getchannel("A").point(lambda value: 255 if value == 255 else 0), layout.offset)
    changed = ImageChops.difference(shadowed, plain).convert("L").point(lambda value: 255 if value else 0)
    assert ImageChops.multiply(changed, opaque).getbbox() is None
    # and the outer half of every margin (corners included) is exactly the background still
    subject = plain.convert("L").point(lambda value: 255 if value < 255 else 0).getbbox()
    if subject is not None:
        assert clear_band_equal(shadowed, plain, subject)
