"""Marketplace presets: variants whose numbers follow a marketplace's published image rule.

Each preset is the fields of a ``VariantSpec`` (its ``name`` is the preset's). A profile entry
``{ preset = "amazon-main" }`` takes it as it is; any other key in the entry overrides that field.
The rules and their sources are in ``docs/profiles.md``; ``tests/unit/variants/test_presets.py``
checks every preset's output against its rule.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

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
        # 1500×1500 recommended, the product taking 75–90 % of the image.
        "google-shopping": {
            "format": "jpeg",
            "quality": 92,
            "background": "white",
            "crop": "subject",
            "canvas": "1500x1500",
            "fill": 0.9,
            "clear_margins": True,
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
