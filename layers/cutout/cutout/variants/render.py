"""Making one deliverable from the master: crop, resize, place, composite, encode.

The master is the transparent cut-out of the one paid call (RGBA). A variant never pays: it is
made here from the master alone. Edges are decontaminated before compositing: a soft edge's
colour is a mix of the product and the old backdrop, and laid on white as it is, a grey or
coloured halo shows. Each semi-transparent pixel takes the colour of the nearest opaque product
pixels instead (a normalised blur of the opaque colours, premultiplied, so no dark fringe), while
its alpha stays as it was. ``tests/unit/variants/test_render.py`` checks it on a master whose edge
carries a green backdrop's colour: composited on white, no pixel of the edge leans green.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageChops, ImageCms, ImageFilter, PngImagePlugin

from cutout.failures import FailureReason
from cutout.profiles.spec import OutputFormat, VariantSpec
from cutout.variants.layout import Box, Layout, plan_layout
from cutout.variants.shadow import clear_zone, placement, render_shadow

# An alpha at or above this belongs to the subject when cropping to it (5 %: not a faint speck).
SUBJECT_ALPHA = 13
OPAQUE_ALPHA = 250
DECONTAMINATION_RADII = (3.0, 12.0, 48.0)
# Below this, a lossy variant is not worth delivering: ``max_bytes`` fails instead.
MIN_QUALITY = 40


class VariantTooLarge(FailureReason):
    """A variant cannot be made within its ``max_bytes``, even at the lowest acceptable quality."""

    code = "variant_too_large"


@dataclass(frozen=True, slots=True)
class RenderedVariant:
    """An encoded deliverable, ready to store."""

    name: str
    body: bytes
    format: OutputFormat
    width: int
    height: int
    quality: int | None  # what the encoder used (lowered to meet max_bytes); None for PNG

    @property
    def content_type(self) -> str:
        return self.format.content_type

    @property
    def extension(self) -> str:
        return self.format.extension


def subject_box(master: Image.Image) -> Box | None:
    """The bounding box of the subject (alpha ≥ 5 %), or ``None`` when nothing is opaque."""
    alpha = master.getchannel("A")
    box = alpha.point(lambda value: 255 if value >= SUBJECT_ALPHA else 0).getbbox()
    return Box(*box) if box else None


def decontaminate(image: Image.Image, radii: tuple[float, ...] = DECONTAMINATION_RADII) -> Image.Image:
    """``image`` (RGBA) with its soft edge recoloured from the nearby opaque subject (see the module docs).

    The colour estimate is made at a few scales, the finest that reaches a pixel winning: a narrow
    blur keeps colours local, wider ones reach the outer rim of a wide, soft edge. It is computed at
    half resolution (colours vary slowly; the alpha, which carries the detail, is never touched) and
    only the edge's pixels take it, so the cost is a fraction of one full-size blur.
    """
    alpha = image.getchannel("A")
    opaque = alpha.point(lambda value: 255 if value >= OPAQUE_ALPHA else 0)
    if opaque.getbbox() is None:
        return image
    source = image.copy()
    source.putalpha(opaque)
    half = 2 if min(image.size) >= 64 else 1
    premultiplied = source.convert("RGBa").reduce(half) if half > 1 else source.convert("RGBa")
    estimate = Image.new("RGBA", premultiplied.size, (0, 0, 0, 0))
    for radius in sorted(radii, reverse=True):  # coarse first, so finer estimates overwrite them
        blurred = _normalised_blur(premultiplied, radius / half)
        reached = blurred.getchannel("A").point(lambda value: 255 if value >= 8 else 0)
        blurred.putalpha(255)
        estimate.paste(blurred, mask=reached)
    if half > 1:  # back to full size, premultiplied so unreached pixels do not darken their neighbours
        estimate = estimate.convert("RGBa").resize(image.size, Image.Resampling.BILINEAR).convert("RGBA")
    edge = alpha.point(lambda value: 255 if 0 < value < OPAQUE_ALPHA else 0)
    reached = estimate.getchannel("A").point(lambda value: 255 if value >= 128 else 0)
    colours = Image.composite(
        estimate.convert("RGB"), image.convert("RGB"), ImageChops.multiply(edge, reached)
    )
    colours.putalpha(alpha)
    return colours


def _normalised_blur(premultiplied: Image.Image, radius: float) -> Image.Image:
    """A box blur of a premultiplied image, un-premultiplied (RGBA): the masked colours' local mean.

    Wide radii are blurred on a reduced copy (a box reduction by up to ``radius / 3``) and scaled
    back: the estimate is smooth at that scale anyway, and it costs a fraction of a full-size blur.
    """
    factor = max(1, min(int(radius // 3), 16))
    if factor == 1:
        return premultiplied.filter(ImageFilter.BoxBlur(radius)).convert("RGBA")
    small = premultiplied.reduce(factor).filter(ImageFilter.BoxBlur(radius / factor))
    return small.resize(premultiplied.size, Image.Resampling.BILINEAR).convert("RGBA")


def compose(master: Image.Image, spec: VariantSpec, layout: Layout | None = None) -> Image.Image:
    """The variant's pixels: RGBA for a transparent background, RGB on a colour."""
    if master.mode != "RGBA":
        master = master.convert("RGBA")
    layout = layout or plan_layout(master.size, subject_box(master), spec)
    subject = master.crop(layout.source.as_tuple())
    if subject.size != layout.placed:
        subject = subject.resize(layout.placed, Image.Resampling.LANCZOS)  # premultiplied by Pillow
    if spec.decontaminate:
        subject = decontaminate(subject)
    canvas = _shadowed(subject, layout, spec) or Image.new("RGBA", layout.canvas, (0, 0, 0, 0))
    canvas.alpha_composite(subject, dest=layout.offset)
    colour = spec.background_rgb
    if colour is None:
        return canvas
    flat = Image.new("RGB", layout.canvas, colour)
    flat.paste(canvas.convert("RGB"), mask=canvas.getchannel("A"))
    return flat


def _shadowed(subject: Image.Image, layout: Layout, spec: VariantSpec) -> Image.Image | None:
    """The canvas with the variant's shadow on it (``cutout.variants.shadow``), or ``None`` for none."""
    if spec.shadow is None:
        return None
    where = placement(subject, layout.offset)
    if where is None:
        return None
    zone = clear_zone(layout.canvas, where.on_canvas, lossy=spec.format.lossy) if spec.clear_margins else None
    return render_shadow(subject, where, layout.canvas, spec.shadow, zone)


@cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in one, ~600 bytes) to tag every variant with."""
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def encode_at(image: Image.Image, output: OutputFormat, quality: int, *, xmp: bytes | None = None) -> bytes:
    """``image`` encoded as ``output`` at ``quality`` with the variants' encoder settings (sRGB-tagged).

    ``xmp``: a packet to embed (the source's rights, ``cutout.normalisation.rights``); nothing else is.
    """
    buffer = io.BytesIO()
    icc = srgb_profile()
    extra: dict[str, object] = {"xmp": xmp} if xmp else {}
    if output is OutputFormat.PNG:
        info = PngImagePlugin.PngInfo()
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
        image.save(buffer, "PNG", compress_level=6, icc_profile=icc, pnginfo=info)
    elif output is OutputFormat.JPEG:
        # 4:4:4 at high quality keeps coloured edges crisp; baseline, optimised Huffman tables.
        subsampling = 0 if quality >= 90 else 2
        image.convert("RGB").save(
            buffer, "JPEG", quality=quality, subsampling=subsampling, optimize=True, icc_profile=icc, **extra
        )
    elif output is OutputFormat.WEBP:
        image.save(buffer, "WEBP", quality=quality, method=4, icc_profile=icc, **extra)
    else:
        image.save(buffer, "AVIF", quality=quality, speed=6, icc_profile=icc, **extra)
    return buffer.getvalue()


def encode(image: Image.Image, spec: VariantSpec, *, xmp: bytes | None = None) -> tuple[bytes, int | None]:
    """(bytes, quality used): at ``spec.quality``, lowered (binary search) until ``max_bytes`` fits."""
    output = spec.format
    body = encode_at(image, output, spec.quality, xmp=xmp)
    if spec.max_bytes is None or len(body) <= spec.max_bytes:
        return body, spec.quality if output.lossy else None
    if not output.lossy:
        raise VariantTooLarge(
            f"Variant {spec.name!r} is {len(body)} bytes as PNG, over its max_bytes of {spec.max_bytes}; "
            "PNG is lossless: choose a lossy format (jpeg, webp, avif), a smaller canvas "
            "or a larger max_bytes."
        )
    best: tuple[bytes, int] | None = None
    low, high = MIN_QUALITY, spec.quality - 1
    while low <= high:
        quality = (low + high) // 2
        candidate = encode_at(image, output, quality, xmp=xmp)
        if len(candidate) <= spec.max_bytes:
            best, low = (candidate, quality), quality + 1
        else:
            high = quality - 1
    if best is None:
        raise VariantTooLarge(
            f"Variant {spec.name!r} does not fit its max_bytes of {spec.max_bytes} "
            f"even at quality {MIN_QUALITY} "
            f"as {output.value}: choose a smaller canvas or a larger max_bytes."
        )
    return best


def render_variant(master: Image.Image, spec: VariantSpec, *, xmp: bytes | None = None) -> RenderedVariant:
    """One deliverable of ``spec`` from the transparent ``master``, carrying ``xmp`` if given."""
    pixels = compose(master, spec)
    body, quality = encode(pixels, spec, xmp=xmp)
    return RenderedVariant(
        name=spec.name,
        body=body,
        format=spec.format,
        width=pixels.width,
        height=pixels.height,
        quality=quality,
    )
