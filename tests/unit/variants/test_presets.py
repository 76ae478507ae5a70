"""Each marketplace preset's output against the numbers of the rule it follows (docs/profiles.md)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter

from cutout.profiles import PRESETS, RULES, VariantSpec
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


@dataclass(frozen=True)
class PublishedRule:
    """A marketplace's image rule as its source states it: these numbers come from the page, not our code."""

    source: str
    formats: frozenset[str]
    max_bytes: int
    min_longest: int = 0
    min_size: tuple[int, int] = (0, 0)
    aspect: float | None = None  # width / height
    recommended_longest: tuple[int, int] | None = None  # a range the page recommends (zoom)
    fill: tuple[float, float] | None = None  # the product's share of the image, as a range
    clear_edges: bool = False  # no border / not touching an edge: the image's edges are backdrop


PUBLISHED = {
    # partner.zalando.com/university/article/zalando-image-guidelines, updated 2025-03-03: aspect
    # ratio (w x h) 1:1.44, best practice 1801 x 2600, minimum 762 x 1100, JPG/JPEG, at most 20 MB,
    # primary packshots on a white background.
    "zalando": PublishedRule(
        source="partner.zalando.com/university/article/zalando-image-guidelines (2025-03-03)",
        formats=frozenset({"JPEG"}),
        max_bytes=20_000_000,
        min_size=(762, 1100),
        aspect=1 / 1.44,
        clear_edges=True,
    ),
    # global-selling.mercadolibre.com/devsite/pictures: JPG, JPEG, PNG up to 10 MB, zoom for
    # pictures wider than 800 px; .../learning-center/news/photo-requirements-for-footwear: the
    # product whole, "not cropped or touching the edge", occupying 95 % of the image.
    "mercado-libre": PublishedRule(
        source="global-selling.mercadolibre.com devsite/pictures; learning-center photo requirements",
        formats=frozenset({"JPEG", "PNG"}),
        max_bytes=10_000_000,
        min_size=(801, 0),
        fill=(0.945, 0.955),
        clear_edges=True,
    ),
    # ebay.com/help/policies/listing-policies/picture-policy?id=4370: at least 500 px on the longest
    # side, no added borders; developer.ebay.com catalog best practices: 800-1600 px on the longest
    # side for zoom, at most 12 MB, JPEG/PNG/TIFF/BMP/GIF.
    "ebay": PublishedRule(
        source="ebay.com picture policy (id=4370); developer.ebay.com catalog best practices, images",
        formats=frozenset({"JPEG", "PNG", "TIFF", "BMP", "GIF"}),
        max_bytes=12_000_000,
        min_longest=500,
        recommended_longest=(800, 1600),
        clear_edges=True,
    ),
    # Secondary only (hauld.app, 2026-05-26; no Etsy page found): at least 2000 px on the longest
    # side, 2000 x 2000 recommended, at most 10 MB, JPEG/PNG/GIF.
    "etsy": PublishedRule(
        source="hauld.app/blog/etsy-listing-photo-checklist (secondary)",
        formats=frozenset({"JPEG", "PNG", "GIF"}),
        max_bytes=10_000_000,
        min_longest=2000,
    ),
    # support.google.com/merchants/answer/6324350: at most 64 MP and 16 MB; JPEG, WebP, PNG, GIF,
    # BMP, TIFF; no borders; 1500 x 1500 recommended; product 75-90 % of the image (old best practice).
    "google-shopping": PublishedRule(
        source="support.google.com/merchants/answer/6324350",
        formats=frozenset({"JPEG", "WEBP", "PNG", "GIF", "BMP", "TIFF"}),
        max_bytes=16_000_000,
        recommended_longest=(1500, 64_000_000),
        fill=(0.75, 0.90),
        clear_edges=True,
    ),
}
# Google Merchant Center's minimum, by the day it applies (answer 6324350, hl=ja/pt/zh-cn): 100 x 100
# (apparel 250 x 250) until the new minimum, 500 x 500 for all products, takes effect on 2027-01-31.
GOOGLE_MINIMUM = {date(2026, 12, 7): (250, 250), date(2027, 1, 30): (250, 250), date(2027, 1, 31): (500, 500)}
GOOGLE_CHANGE_DAY = "2027-01-31"


def _product(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    alpha = Image.new("L", size, 0)
    ImageDraw.Draw(alpha).rectangle(box, fill=255)
    image = Image.new("RGB", size, (40, 60, 150))
    image.putalpha(alpha.filter(ImageFilter.GaussianBlur(1)))
    return image


# A tall product, a wide one and a square one: the rule holds whatever the product's shape.
SHAPES = {
    "tall": _product((600, 1400), (150, 100, 450, 1300)),
    "wide": _product((1400, 600), (100, 150, 1300, 450)),
    "square": _product((900, 900), (100, 100, 800, 800)),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("preset", sorted(PUBLISHED))
def test_each_new_marketplace_preset_follows_its_published_rule(preset: str, shape: str) -> None:
    # Given the marketplace's rule as published, and a product of some shape
    rule = PUBLISHED[preset]
    # When the preset is rendered and decoded
    variant, image = rendered(preset, SHAPES[shape])
    width, height = image.size
    # Then its format, bytes and size are within the rule
    assert image.format in rule.formats
    assert len(variant.body) <= rule.max_bytes
    assert max(width, height) >= rule.min_longest
    assert width >= rule.min_size[0]
    assert height >= rule.min_size[1]
    if rule.aspect is not None:
        assert abs(width / height - rule.aspect) / rule.aspect <= 0.005
    if rule.recommended_longest is not None:
        low, high = rule.recommended_longest
        assert low <= max(width, height) <= high
    assert width * height <= 64_000_000
    left, top, right, bottom = product_box(image)
    if rule.fill is not None:  # the product's longer side, as a share of the image's longer side
        share = max(right - left, bottom - top) / max(width, height)
        assert rule.fill[0] <= share <= rule.fill[1]
    if rule.clear_edges:  # not touching an edge, and every edge pixel is the pure white backdrop
        assert left > 0
        assert top > 0
        assert right < width
        assert bottom < height
        rgb = image.convert("RGB")
        edges = [
            (0, 0, width, 1),
            (0, height - 1, width, height),
            (0, 0, 1, height),
            (width - 1, 0, width, height),
        ]
        assert all(rgb.crop(box).getextrema() == ((255, 255), (255, 255), (255, 255)) for box in edges)


@pytest.mark.parametrize(("day", "minimum"), sorted(GOOGLE_MINIMUM.items()))
def test_google_shopping_meets_the_minimum_in_effect_before_and_after_the_2027_change(
    day: date, minimum: tuple[int, int]
) -> None:
    # Given Google Merchant Center's minimum on that day
    # When the preset is rendered
    _, image = rendered("google-shopping", SHAPES["tall"])
    # Then it is at least that size, and the preset records the day the new minimum takes effect
    assert image.width >= minimum[0]
    assert image.height >= minimum[1]
    assert GOOGLE_CHANGE_DAY in RULES["google-shopping"].change


def test_every_preset_names_its_source_and_the_day_it_was_read() -> None:
    # Given the shipped presets
    # When their rules are looked up
    # Then each has a source and a date, and the secondary-only ones say so
    assert set(RULES) == set(PRESETS)
    assert all(rule.source and rule.read_on.year >= 2026 for rule in RULES.values())
    assert RULES["etsy"].secondary


def test_every_shipped_preset_is_covered_here() -> None:
    # Given the presets that ship
    # When this module's tests are counted
    covered = {"amazon-main", "shopify", "walmart", "google-shopping", "web-transparent", "listing-webp"}
    covered |= set(PUBLISHED)
    # Then each preset has its rule test
    assert set(PRESETS) == covered
