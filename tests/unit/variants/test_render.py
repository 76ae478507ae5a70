"""Rendering a variant: halo-free edges on a colour, exact backgrounds, max_bytes, formats."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter

from cutout.profiles import VariantSpec
from cutout.variants import VariantTooLarge, compose, render_variant, subject_box
from cutout.variants.keys import master_key, variant_key

GREEN = (0, 200, 0)
RED = (200, 30, 30)


def spec(**fields: Any) -> VariantSpec:
    return VariantSpec.model_validate({"name": "v", **fields})


def contaminated_master(size: int = 400) -> Image.Image:
    """A red disc cut from a green backdrop by a matting that left the backdrop in the soft edge.

    Alpha falls off over ~6 px; each edge pixel's colour is the mix alpha*red + (1-alpha)*green,
    exactly what a cut-out carries when its edge colours are not decontaminated.
    """
    alpha = Image.new("L", (size, size), 0)
    ImageDraw.Draw(alpha).ellipse((60, 60, size - 60, size - 60), fill=255)
    alpha = alpha.filter(ImageFilter.GaussianBlur(3))
    red, green = Image.new("RGB", (size, size), RED), Image.new("RGB", (size, size), GREEN)
    mixed = Image.composite(red, green, alpha)
    mixed.putalpha(alpha)
    return mixed


def greenness(pixel: tuple[int, ...]) -> int:
    red, green, blue = pixel[:3]
    return green - max(red, blue)


def test_compositing_on_white_leaves_no_halo_of_the_old_backdrop() -> None:
    # Given a master whose soft edge still carries the green backdrop's colour
    master = contaminated_master()
    # When it is composited on white, with and without decontamination
    flat = compose(master, spec(background="white", crop="none"))
    naive = Image.new("RGB", master.size, (255, 255, 255))
    naive.paste(master.convert("RGB"), mask=master.getchannel("A"))
    # Then the naive composite shows green in the edge, and ours shows none anywhere
    assert max(greenness(p) for p in naive.get_flattened_data()) > 20
    assert max(greenness(p) for p in flat.get_flattened_data()) <= 2


def test_decontamination_turned_off_composites_the_edge_as_the_master_has_it() -> None:
    # Given a master whose soft edge still carries the green backdrop's colour
    master = contaminated_master()
    # When it is composited on white with decontamination off
    flat = compose(master, spec(background="white", crop="none", decontaminate=False))
    # Then it is exactly the plain composite: the edge keeps its green
    naive = Image.new("RGB", master.size, (255, 255, 255))
    naive.paste(master.convert("RGB"), mask=master.getchannel("A"))
    assert flat.tobytes() == naive.tobytes()
    assert max(greenness(p) for p in flat.get_flattened_data()) > 20


def test_decontamination_keeps_the_alpha_and_the_opaque_colours() -> None:
    # Given the contaminated master
    master = contaminated_master()
    # When it is rendered transparent without resizing
    rendered = compose(master, spec(crop="none"))
    # Then the alpha is untouched and the opaque centre keeps its colour
    assert rendered.getchannel("A").tobytes() == master.getchannel("A").tobytes()
    assert rendered.getpixel((200, 200)) == (*RED, 255)


def test_a_white_background_is_exactly_255_in_the_margins_of_a_jpeg() -> None:
    # Given the master and a JPEG on white with a 20 % margin
    master = contaminated_master()
    rendered = render_variant(master, spec(format="jpeg", background="white", canvas="square", margin="20%"))
    # When the JPEG is decoded
    image = Image.open(io.BytesIO(rendered.body)).convert("RGB")
    # Then every pixel of the margin band (16 px clear of the subject) is pure white
    box = subject_box(compose(master, spec(background="transparent", canvas="square", margin="20%")))
    assert box is not None
    width, height = image.size
    clear = 16
    band = [
        image.getpixel((x, y))
        for x in range(width)
        for y in range(height)
        if not (box.left - clear <= x < box.right + clear and box.top - clear <= y < box.bottom + clear)
    ]
    assert band
    assert set(band) == {(255, 255, 255)}


def test_max_bytes_lowers_the_quality_until_the_variant_fits() -> None:
    # Given a noisy master that is large as a quality-95 JPEG
    noise = Image.effect_noise((600, 600), 80).convert("RGB")
    master = noise.copy()
    master.putalpha(255)
    plain = render_variant(master, spec(format="jpeg", background="white", quality=95))
    limit = len(plain.body) // 2
    # When it must fit in half that
    fitted = render_variant(master, spec(format="jpeg", background="white", quality=95, max_bytes=limit))
    # Then it does, at a lower quality that says so
    assert len(fitted.body) <= limit
    assert fitted.quality is not None
    assert fitted.quality < 95


def test_a_png_over_max_bytes_fails_with_its_reason() -> None:
    # Given a noisy master and a PNG variant far too small for it
    noise = Image.effect_noise((400, 400), 80).convert("RGB")
    noise.putalpha(255)
    # When it is rendered
    with pytest.raises(VariantTooLarge) as raised:
        render_variant(noise, spec(format="png", max_bytes=2048))
    # Then the reason is specific and says what to do
    assert raised.value.code == "variant_too_large"
    assert "lossy format" in raised.value.message


@pytest.mark.parametrize(
    ("fmt", "pil_format", "mode"),
    [("png", "PNG", "RGBA"), ("webp", "WEBP", "RGBA"), ("avif", "AVIF", "RGBA"), ("jpeg", "JPEG", "RGB")],
)
def test_each_format_encodes_what_it_says_with_an_srgb_profile(fmt: str, pil_format: str, mode: str) -> None:
    # Given the master
    master = contaminated_master(200)
    background = "white" if fmt == "jpeg" else "transparent"
    # When it is rendered in each format
    rendered = render_variant(master, spec(format=fmt, background=background))
    # Then the bytes are that format, in that mode, tagged sRGB
    image = Image.open(io.BytesIO(rendered.body))
    assert image.format == pil_format
    assert image.mode == mode
    profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    assert rendered.content_type == f"image/{fmt}"


def test_output_keys_append_the_variant_extension_so_no_two_sources_share_one() -> None:
    # Given four sources that differ only by extension
    sources = ["shoes/red.jpg", "shoes/red.png", "shoes/red.webp", "shoes/red"]
    # When their variant and master keys are made
    variants = {variant_key(source, "site", ".png") for source in sources}
    masters = {master_key(source) for source in sources}
    # Then each source has its own
    assert len(variants) == len(masters) == 4
    assert variant_key("shoes/red.jpg", "amazon-main", ".jpg") == "amazon-main/shoes/red.jpg.jpg"
    assert master_key("shoes/red.jpg") == "masters/shoes/red.jpg.png"
