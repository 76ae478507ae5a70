"""Marketplace presets: variants whose numbers follow a marketplace's published image rule.

Each preset is the fields of a ``VariantSpec`` (its ``name`` is the preset's). A profile entry
``{ preset = "amazon-main" }`` takes it as it is; any other key in the entry overrides that field.
The rules and their sources are in ``docs/profiles.md`` and in ``RULES`` (the page each preset
follows and the day it was read); ``tests/unit/variants/test_presets.py`` checks every preset's
output against a table of the published rule, written in the test from the source, not from here.
``clear_margins`` marks the presets whose rule wants the backdrop exactly white with no border:
a shadow added to them never reaches the corners or the outer half of a margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class PresetRule:
    """Where a preset's numbers come from: the page, the day it was read, and a pending change."""

    source: str
    read_on: date
    secondary: bool = False  # a third-party page restating the rule: no primary source was found
    change: str = ""  # a published change still to come, with the day it takes effect


PRESETS: MappingProxyType[str, dict[str, Any]] = MappingProxyType(
    {
        # Amazon main image: pure white (255, 255, 255), the product filling 85 % of the frame,
        # JPEG preferred, 1000+ px for zoom (1600+ recommended): 2000×2000, the product's longer side 1700 px.
        "amazon-main": {
            "format": "jpeg",
            "quality": 92,
            "background": "white",
            "crop": "subject",
            "canvas": "2000x2000",
            "fill": 0.85,
            "clear_margins": True,
        },
        # Shopify: 2048×2048 square is the recommended product image (the documented cap is 4472 px / 20 MP).
        "shopify": {
            "format": "jpeg",
            "quality": 90,
            "background": "white",
            "crop": "subject",
            "canvas": "2048x2048",
            "fill": 0.9,
        },
        # Walmart: 1:1, seamless white 255, RGB 8 bits, at most 5 MB; 2200×2200 recommended.
        "walmart": {
            "format": "jpeg",
            "quality": 92,
            "max_bytes": 5_000_000,
            "background": "white",
            "crop": "subject",
            "canvas": "2200x2200",
            "fill": 0.85,
            "clear_margins": True,
        },
        # Google Shopping: no added border or text (the white pad is the backdrop, not a frame),
        # 1500×1500 recommended, the product taking 75–90 % of the image; at most 64 MP / 16 MB.
        # The minimum rises to 500×500 for every product on 31 Jan 2027 (100×100, apparel 250×250,
        # until then): 1500×1500 is above both.
        "google-shopping": {
            "format": "jpeg",
            "quality": 92,
            "background": "white",
            "crop": "subject",
            "canvas": "1500x1500",
            "fill": 0.9,
            "clear_margins": True,
        },
        # Zalando packshot: aspect 1:1.44 (width x height), best practice 1801×2600, at least 762×1100,
        # JPG/JPEG only, at most 20 MB; primary packshots on a white background.
        "zalando": {
            "format": "jpeg",
            "quality": 92,
            "max_bytes": 20_000_000,
            "background": "white",
            "crop": "subject",
            "canvas": "1801x2600",
            # a margin, not fill: fill is a share of the longer side, which on a portrait canvas
            # would let a wide product touch the sides; 5 % of the product on each side never does
            "margin": "5%",
            "clear_margins": True,
        },
        # Mercado Libre: JPG/JPEG/PNG up to 10 MB, zoom from 800 px wide; the cover photo's product
        # takes 95 % of the image, whole, never cropped or touching an edge: 1200×1200, 95 %.
        "mercado-libre": {
            "format": "jpeg",
            "quality": 90,
            "max_bytes": 10_000_000,
            "background": "white",
            "crop": "subject",
            "canvas": "1200x1200",
            "fill": 0.95,
            "clear_margins": True,
        },
        # eBay: at least 500 px on the longest side (policy), 800-1600 px for zoom and at most 12 MB
        # (developer guide); no added borders: 1600×1600 on white.
        "ebay": {
            "format": "jpeg",
            "quality": 90,
            "max_bytes": 12_000_000,
            "background": "white",
            "crop": "subject",
            "canvas": "1600x1600",
            "fill": 0.9,
            "clear_margins": True,
        },
        # Etsy (secondary sources only): at least 2000 px (longest side; some pages say shortest),
        # 2000×2000 square recommended, at most 10 MB, JPEG/PNG/GIF.
        "etsy": {
            "format": "jpeg",
            "quality": 90,
            "max_bytes": 10_000_000,
            "background": "white",
            "crop": "subject",
            "canvas": "2000x2000",
            "fill": 0.9,
        },
        # A shop's own site: a transparent PNG trimmed to the subject, with a small margin.
        "web-transparent": {
            "format": "png",
            "background": "transparent",
            "crop": "subject",
            "margin": "2%",
            "max_side": 2000,
        },
        # Listings and grids: a small square WebP on white.
        "listing-webp": {
            "format": "webp",
            "quality": 80,
            "max_bytes": 150_000,
            "background": "white",
            "crop": "subject",
            "canvas": "800x800",
            "fill": 0.9,
        },
    }
)

_MELI = "https://global-selling.mercadolibre.com"
RULES: MappingProxyType[str, PresetRule] = MappingProxyType(
    {
        "amazon-main": PresetRule(
            "https://sellercentral.amazon.com/gp/help/external/G9FUUH87RBNXGKB7 (85 %: seller guides)",
            date(2026, 12, 1),
        ),
        "shopify": PresetRule("https://shopify.dev/docs/apps/online-store/media/products", date(2026, 12, 1)),
        "walmart": PresetRule(
            "https://marketplacelearn.walmart.com (Product detail page: Image guidelines, Jul 2025)",
            date(2026, 12, 1),
        ),
        "google-shopping": PresetRule(
            "https://support.google.com/merchants/answer/6324350",
            date(2026, 12, 7),
            change="minimum 500x500 for all products from 2027-01-31 (was 100x100, apparel 250x250)",
        ),
        "zalando": PresetRule(
            "https://partner.zalando.com/university/article/zalando-image-guidelines (updated 2025-03-03)",
            date(2026, 12, 7),
        ),
        "mercado-libre": PresetRule(
            f"{_MELI}/devsite/pictures (10 MB, formats, zoom); "
            f"{_MELI}/learning-center/news/photo-requirements-for-footwear (95 %, not touching an edge)",
            date(2026, 12, 7),
        ),
        "ebay": PresetRule(
            "https://www.ebay.com/help/policies/listing-policies/picture-policy?id=4370; "
            "https://developer.ebay.com/devzone/merchant-products/catalog-best-practices/content/images.html",
            date(2026, 12, 7),
        ),
        "etsy": PresetRule(
            "https://hauld.app/blog/etsy-listing-photo-checklist (2026-05-26)",
            date(2026, 12, 7),
            secondary=True,
        ),
        "web-transparent": PresetRule("cutout's own: a shop's site", date(2026, 12, 1)),
        "listing-webp": PresetRule("cutout's own: grids and listings", date(2026, 12, 1)),
    }
)
