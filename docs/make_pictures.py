"""Make the pictures of docs/deliverables-second-round.md: each shadow kind and each new preset.

Run: ``.venv/bin/python docs/make_pictures.py`` (offline: the local studio engine cuts the sample
out, exactly as ``cutout profiles preview`` does). Writes PNGs to docs/images/, each the variant as
rendered, scaled down to ``THUMB`` px on its longer side, on a light grey card so that a white
background's edge and a transparent one's checkerboard both show.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from cutout.engine.port import Background, CutoutOptions, ImageBytes
from cutout.profiles import VariantSpec
from cutout.variants import render_variant
from cutout_tools.studio.engine import StudioEngine

ROOT = Path(__file__).resolve().parent
IMAGES = ROOT / "images"
SAMPLE = ROOT.parent / "samples" / "kitchen" / "mug.jpg"
THUMB = 420
PICTURES: dict[str, dict[str, Any]] = {
    "shadow-none": {"preset": "amazon-main"},
    "shadow-contact": {"preset": "amazon-main", "shadow": "contact"},
    "shadow-drop": {"preset": "amazon-main", "shadow": "drop"},
    "shadow-reflection": {"preset": "amazon-main", "shadow": "reflection", "anchor": "top"},
    "shadow-drop-transparent": {"preset": "web-transparent", "shadow": "drop", "margin": "8%"},
    "preset-zalando": {"preset": "zalando", "shadow": "contact"},
    "preset-mercado-libre": {"preset": "mercado-libre"},
    "preset-ebay": {"preset": "ebay"},
    "preset-etsy": {"preset": "etsy"},
    "preset-google-shopping": {"preset": "google-shopping"},
}


def master() -> Image.Image:
    cutout = StudioEngine().remove_background(
        ImageBytes(SAMPLE.read_bytes()), CutoutOptions(background=Background.TRANSPARENT)
    )
    with Image.open(cutout.body) as opened:
        return opened.convert("RGBA")


def card(variant: Image.Image) -> Image.Image:
    """The variant scaled to THUMB on its longer side, on a grey card (a checkerboard under alpha)."""
    scale = THUMB / max(variant.size)
    size = (max(1, round(variant.width * scale)), max(1, round(variant.height * scale)))
    small = variant.convert("RGBA").resize(size, Image.Resampling.LANCZOS)
    board = Image.new("RGBA", small.size, (255, 255, 255, 255))
    pen = ImageDraw.Draw(board)
    for y in range(0, small.height, 12):
        for x in range(0, small.width, 12):
            if (x // 12 + y // 12) % 2:
                pen.rectangle((x, y, x + 11, y + 11), fill=(224, 224, 224, 255))
    board.alpha_composite(small)
    framed = Image.new("RGB", (small.width + 16, small.height + 16), (200, 200, 200))
    framed.paste(board.convert("RGB"), (8, 8))
    return framed


def main() -> int:
    IMAGES.mkdir(exist_ok=True)
    image = master()
    for name, fields in PICTURES.items():
        rendered = render_variant(image, VariantSpec.model_validate(fields))
        with Image.open(io.BytesIO(rendered.body)) as variant:
            target = IMAGES / f"{name}.png"
            card(variant).save(target, optimize=True)
        size = f"{rendered.width}x{rendered.height}"
        print(f"{target.relative_to(ROOT.parent)}: {size} {rendered.format.value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
