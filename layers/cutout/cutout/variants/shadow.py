"""Shadows drawn locally from the master's alpha: contact, drop and reflection (no API call).

A shadow is background: the layout (crop, margin, fill, anchor) is planned on the subject alone,
so a product that fills 85 % of the frame still fills 85 % with its shadow, and the shadow is drawn
on the canvas, under the subject, clipped to it. Where the variant's rule wants the backdrop
exactly its colour (``clear_margins``: Amazon's pure white, no border), the shadow is also kept
off the outer half of every margin, and ``LOSSY_GUARD`` pixels further in for lossy formats, whose
8×8 / 16×16 blocks would otherwise carry a trace of it outwards; its edge there is feathered, not cut.

Every layer is one canvas-sized ``L`` mask and one ``RGBA`` image (``SHADOW_BYTES_PER_PIXEL``,
which ``cutout.deliverables.store.working_set`` reserves in the pixel budget). Wide blurs are made
on a reduced copy and scaled back, as the edge decontamination does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from cutout.profiles.spec import Shadow

# An alpha at or above this is the subject's (5 %), as for cropping to it.
SUBJECT_ALPHA = 13
# Pixels kept clear inside a clear margin for lossy encoders (a JPEG MCU is at most 16 px; chroma
# upsampling reaches one more sample): no block that touches the clear band sees the shadow.
LOSSY_GUARD = 24
# Bytes per canvas pixel the shadow layers hold at once (the mask, the clip, the RGBA layer, a copy).
SHADOW_BYTES_PER_PIXEL = 10
# The contact shadow is made from the bottom 12 % of the silhouette (the product's base), flattened to 5 %.
CONTACT_BASE = 0.12
CONTACT_HEIGHT = 0.05


@dataclass(frozen=True, slots=True)
class Placement:
    """Where the subject sits on the canvas: its image's offset and its alpha's box within it."""

    offset: tuple[int, int]
    box: tuple[int, int, int, int]  # the subject's alpha box (>= 5 %), in the subject image's pixels

    @property
    def on_canvas(self) -> tuple[int, int, int, int]:
        x, y = self.offset
        left, top, right, bottom = self.box
        return (x + left, y + top, x + right, y + bottom)


def placement(subject: Image.Image, offset: tuple[int, int]) -> Placement | None:
    """The subject's placement, or ``None`` when nothing of it is opaque enough to cast a shadow."""
    box = subject.getchannel("A").point(lambda value: 255 if value >= SUBJECT_ALPHA else 0).getbbox()
    return Placement(offset=offset, box=box) if box else None


def clear_zone(
    canvas: tuple[int, int], subject_box: tuple[int, int, int, int], *, lossy: bool
) -> tuple[int, int, int, int]:
    """The part of the canvas a shadow may use when the margins must stay clear.

    Each side's margin is the space between the subject's box and the canvas edge; its outer half
    (rounded up, so even a 1 px margin keeps its edge pixel) stays clear, and ``LOSSY_GUARD`` more
    for lossy formats. May be empty (left >= right): then no shadow is drawn at all.
    """
    width, height = canvas
    left, top, right, bottom = subject_box
    guard = LOSSY_GUARD if lossy else 0
    return (
        math.ceil(left / 2) + guard,
        math.ceil(top / 2) + guard,
        width - math.ceil((width - right) / 2) - guard,
        height - math.ceil((height - bottom) / 2) - guard,
    )


def render_shadow(
    subject: Image.Image,
    where: Placement,
    canvas_size: tuple[int, int],
    shadow: Shadow,
    zone: tuple[int, int, int, int] | None = None,
) -> Image.Image | None:
    """The shadow layer (RGBA, canvas-sized) to lay under ``subject`` placed at ``where``.

    ``zone``: the only box the shadow may touch (``clear_zone``); ``None`` allows the whole canvas.
    ``None`` is returned when the shadow is invisible (zero opacity, or an empty zone).
    """
    if shadow.opacity <= 0:
        return None
    if zone is not None and (zone[2] <= zone[0] or zone[3] <= zone[1]):
        return None
    left, top, right, bottom = where.box
    side = max(right - left, bottom - top)
    if shadow.mode == "reflection":
        layer = _reflection(subject, where, canvas_size, shadow, side)
    else:
        cast = _contact if shadow.mode == "contact" else _drop
        alpha = cast(subject, where, canvas_size, shadow, side)
        layer = Image.new("RGBA", canvas_size, (0, 0, 0, 0))
        layer.putalpha(alpha)
    if zone is not None:
        layer.putalpha(ImageChops.multiply(layer.getchannel("A"), _zone_mask(canvas_size, zone)))
    return layer


def _drop(
    subject: Image.Image, where: Placement, canvas_size: tuple[int, int], shadow: Shadow, side: int
) -> Image.Image:
    distance = shadow.distance.pixels(side)
    angle = math.radians(shadow.direction)
    dx, dy = round(distance * math.sin(angle)), round(-distance * math.cos(angle))
    mask = Image.new("L", canvas_size, 0)
    mask.paste(subject.getchannel("A"), (where.offset[0] + dx, where.offset[1] + dy))
    return _scaled(_soften(mask, shadow.softness.pixels(side)), shadow.opacity)


def _contact(
    subject: Image.Image, where: Placement, canvas_size: tuple[int, int], shadow: Shadow, side: int
) -> Image.Image:
    """The product's base (the bottom of its silhouette) flattened onto the floor line and blurred."""
    left, top, right, bottom = where.box
    base_rows = max(1, round((bottom - top) * CONTACT_BASE))
    base = subject.getchannel("A").crop((left, bottom - base_rows, right, bottom))
    flat_rows = max(2, round(side * CONTACT_HEIGHT))
    footprint = base.resize((right - left, flat_rows), Image.Resampling.BOX)
    # Each column as dark as the base is solid there: the squash averaged it down, undo that.
    footprint = footprint.point(lambda value: min(255, value * 3))
    mask = Image.new("L", canvas_size, 0)
    floor_x, floor_y = where.on_canvas[0], where.on_canvas[3]
    mask.paste(footprint, (floor_x, floor_y - flat_rows // 2))
    return _scaled(_soften(mask, shadow.softness.pixels(side)), shadow.opacity)


def _reflection(
    subject: Image.Image, where: Placement, canvas_size: tuple[int, int], shadow: Shadow, side: int
) -> Image.Image:
    """The subject mirrored under its base, fading from ``opacity`` to nothing over ``fade``."""
    left, top, right, bottom = where.box
    fade_rows = max(1, round(shadow.fade.pixels(side)))
    mirror = subject.crop((left, max(top, bottom - fade_rows), right, bottom))
    mirror = mirror.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    ramp = Image.linear_gradient("L").resize((1, fade_rows), Image.Resampling.BILINEAR)
    ramp = ramp.point(lambda value: round((255 - value) * shadow.opacity))
    ramp = ramp.crop((0, 0, 1, mirror.height)).resize(mirror.size, Image.Resampling.NEAREST)
    mirror.putalpha(ImageChops.multiply(mirror.getchannel("A"), ramp))
    layer = Image.new("RGBA", canvas_size, (0, 0, 0, 0))
    gap = round(shadow.distance.pixels(side))
    floor_x, floor_y = where.on_canvas[0], where.on_canvas[3]
    layer.paste(mirror, (floor_x, floor_y + gap))
    return layer


def _scaled(mask: Image.Image, opacity: float) -> Image.Image:
    return mask.point([round(value * opacity) for value in range(256)])


def _soften(mask: Image.Image, radius: float) -> Image.Image:
    """A Gaussian blur of ``radius``; a wide one on a reduced copy, scaled back (it is smooth anyway)."""
    if radius < 0.5:
        return mask
    factor = max(1, min(int(radius // 4), 16))
    if factor == 1:
        return mask.filter(ImageFilter.GaussianBlur(radius))
    small = mask.reduce(factor).filter(ImageFilter.GaussianBlur(radius / factor))
    return small.resize(mask.size, Image.Resampling.BILINEAR)


def _zone_mask(canvas_size: tuple[int, int], zone: tuple[int, int, int, int]) -> Image.Image:
    """255 well inside ``zone``, falling to 0 at its edge (a box blur never reaches past it)."""
    left, top, right, bottom = zone
    feather = max(0, min(8, (right - left) // 4, (bottom - top) // 4))
    inner = (left + feather + 1, top + feather + 1, right - feather - 2, bottom - feather - 2)
    mask = Image.new("L", canvas_size, 0)
    if inner[2] < inner[0] or inner[3] < inner[1]:
        return mask
    ImageDraw.Draw(mask).rectangle(inner, fill=255)
    return mask.filter(ImageFilter.BoxBlur(feather)) if feather else mask
