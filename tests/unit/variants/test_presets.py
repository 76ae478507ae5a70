"""Each marketplace preset's output against the numbers of the rule it follows (docs/profiles.md)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter

from cutout.profiles import PRESETS, VariantSpec
from cutout.variants import RenderedVariant, render_variant

WHITE = (255, 255, 255)


@pytest.fixture(scope="module")
def master() -> Image.Image:
    """A tall product with a soft edge on a transparent 1200 × 1600 master, off-centre like a real shot."""
    alpha = Image.new("L", (1200, 1600), 0)
    draw = ImageDraw.Draw(alpha)
    draw.rounded_rectangle((250, 180, 850, 1450), radius=120, fill=255)
    draw.ellipse((700, 500, 1000, 800), fill=255)  # a handle sticking out
    alpha = alpha.filter(ImageFilter.GaussianBlur(2))
    colour = Image.linear_gradient("L").resize((1200, 1600)).convert("RGB")
    image = Image.merge("RGB", (colour.getchannel(0), Image.new("L", (1200, 1600), 90), colour.getchannel(0)))
    image.putalpha(alpha)
    return image


def rendered(preset: str, master: Image.Image) -> tuple[RenderedVariant, Image.Image]:
    variant = render_variant(master, VariantSpec.model_validate({"preset": preset}))
    return variant, Image.open(io.BytesIO(variant.body))


def is_srgb(image: Image.Image) -> bool:
    icc = image.info.get("icc_profile")
    return icc is not None and "sRGB" in ImageCms.getProfileDescription(
        ImageCms.ImageCmsProfile(io.BytesIO(icc))
    )


def product_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The box of what is not (near) pure white: the product on a white variant."""
    grey = image.convert("L")
    box = grey.point(lambda value: 255 if value < 250 else 0).getbbox()
    assert box is not None
    return box


def margins_are_pure_white(image: Image.Image, clear: int = 16) -> bool:
    """Every pixel more than ``clear`` px outside the product's box is exactly (255, 255, 255)."""
    left, top, right, bottom = product_box(image)
    rgb = image.convert("RGB")
    strips = [
        (0, 0, rgb.width, max(0, top - clear)),
        (0, min(rgb.height, bottom + clear), rgb.width, rgb.height),
        (0, 0, max(0, left - clear), rgb.height),
        (min(rgb.width, right + clear), 0, rgb.width, rgb.height),
    ]
    boxes = [box for box in strips if box[2] > box[0] and box[3] > box[1]]
    pure = ((255, 255), (255, 255), (255, 255))
    return bool(boxes) and all(rgb.crop(box).getextrema() == pure for box in boxes)


@pytest.mark.parametrize(
    ("preset", "side", "fill", "max_bytes"),
    [
        ("amazon-main", 2000, 0.85, None),  # pure white, product 85 % of the frame
        ("shopify", 2048, 0.90, None),  # 2048 × 2048 square
        ("walmart", 2200, 0.85, 5_000_000),  # 2200 × 2200, ≤ 5 MB, RGB 8-bit, white 255
        ("google-shopping", 1500, 0.90, None),  # ≥ 1500 × 1500, no added border
    ],
)
def test_white_marketplace_presets_follow_their_rule(
    master: Image.Image, preset: str, side: int, fill: float, max_bytes: int | None
) -> None:
    # Given a product master
    # When the preset is rendered and its JPEG decoded
    variant, image = rendered(preset, master)
    # Then it is an sRGB, 8-bit RGB JPEG of the rule's size
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert is_srgb(image)
    assert image.size == (side, side)
    # and the background is exactly 255 in the corners and margins: pure white, no border
    assert margins_are_pure_white(image)
    # and the product's longer side takes the rule's share of the canvas (±0.5 %)
    left, top, right, bottom = product_box(image)
    assert abs(max(right - left, bottom - top) / side - fill) <= 0.005
    # and it is centred
    assert abs((left + right) / 2 - side / 2) <= 2
    assert abs((top + bottom) / 2 - side / 2) <= 2
    if max_bytes is not None:
        assert len(variant.body) <= max_bytes


def test_web_transparent_is_a_png_trimmed_to_the_subject_with_a_small_margin(master: Image.Image) -> None:
    # Given a product master
    # When web-transparent is rendered
    _, image = rendered("web-transparent", master)
    # Then it is an sRGB RGBA PNG whose subject fills it but for a 2 % margin
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    assert is_srgb(image)
    box = image.getchannel("A").point(lambda value: 255 if value >= 13 else 0).getbbox()
    assert box is not None
    subject_w, subject_h = box[2] - box[0], box[3] - box[1]
    assert abs(box[0] - 0.02 * subject_w) <= 2
    assert abs((image.height - box[3]) - 0.02 * subject_h) <= 2
    assert image.getpixel((0, 0))[3] == 0
    assert max(image.size) <= PRESETS["web-transparent"]["max_side"]


def test_listing_webp_is_a_small_square_webp(master: Image.Image) -> None:
    # Given a product master
    # When listing-webp is rendered
    variant, image = rendered("listing-webp", master)
    # Then it is an 800 × 800 WebP within its byte budget, on white
    assert image.format == "WEBP"
    assert image.size == (800, 800)
    assert len(variant.body) <= PRESETS["listing-webp"]["max_bytes"]
    assert is_srgb(image)
    rgb = image.convert("RGB")
    assert all(min(rgb.getpixel(xy)) >= 250 for xy in ((0, 0), (799, 0), (0, 799), (799, 799)))


def test_every_shipped_preset_is_covered_here() -> None:
    # Given the presets that ship
    # When this module's tests are counted
    covered = {"amazon-main", "shopify", "walmart", "google-shopping", "web-transparent", "listing-webp"}
    # Then each preset has its rule test
    assert set(PRESETS) == covered
