"""Where the subject goes: pure geometry from the master's size, the subject's box and a ``VariantSpec``.

No pixels here, so every rule (crop, margin, canvas, fill, anchor, min/max side) is tested on numbers.
Percent margins are of the subject's size and scale with it; pixel margins are output pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cutout.failures import FailureReason
from cutout.profiles.spec import VariantSpec


class LayoutImpossible(FailureReason):
    """The variant's margins leave no room for the subject on its canvas (a profile error)."""

    code = "variant_layout_impossible"


@dataclass(frozen=True, slots=True)
class Box:
    """A pixel rectangle, ``right``/``bottom`` exclusive (Pillow's box convention)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)


@dataclass(frozen=True, slots=True)
class Layout:
    """Take ``source`` from the master, scale it to ``placed`` and put it at ``offset`` on ``canvas``."""

    source: Box
    scale: float
    placed: tuple[int, int]
    offset: tuple[int, int]
    canvas: tuple[int, int]


def plan_layout(master_size: tuple[int, int], subject: Box | None, spec: VariantSpec) -> Layout:
    """The layout of ``spec`` for a master of ``master_size`` whose subject is ``subject`` (None: empty)."""
    width, height = master_size
    full = Box(0, 0, width, height)
    region = subject if spec.crop == "subject" and subject is not None else full
    rw, rh = region.width, region.height
    margin = spec.margin
    # Margins at the subject's scale (percent) and in output pixels (px), per side.
    pct = {
        "top": margin.top.pixels(rh) if margin.top.percent else 0.0,
        "bottom": margin.bottom.pixels(rh) if margin.bottom.percent else 0.0,
        "left": margin.left.pixels(rw) if margin.left.percent else 0.0,
        "right": margin.right.pixels(rw) if margin.right.percent else 0.0,
    }
    px = {
        side: 0.0 if length.percent else length.value
        for side, length in (
            ("top", margin.top),
            ("bottom", margin.bottom),
            ("left", margin.left),
            ("right", margin.right),
        )
    }
    content_w, content_h = rw + pct["left"] + pct["right"], rh + pct["top"] + pct["bottom"]
    fixed_w, fixed_h = px["left"] + px["right"], px["top"] + px["bottom"]

    def size_at(scale: float) -> tuple[float, float]:
        return content_w * scale + fixed_w, content_h * scale + fixed_h

    canvas_kind = spec.canvas.kind
    if spec.fill is not None:
        scale, canvas = _fill_scale(spec, rw, rh)
    elif canvas_kind == "fixed":
        canvas_w, canvas_h = spec.canvas.fixed_size or (width, height)
        scale = min((canvas_w - fixed_w) / content_w, (canvas_h - fixed_h) / content_h)
        if scale <= 0:
            raise LayoutImpossible(
                f"Variant {spec.name!r}: its margins leave no room for the subject "
                f"on a {canvas_w}x{canvas_h} canvas."
            )
        canvas = (canvas_w, canvas_h)
    else:
        scale = _constrained_scale(
            spec, content_w, content_h, fixed_w, fixed_h, square=canvas_kind == "square"
        )
        natural_w, natural_h = size_at(scale)
        if canvas_kind == "square":
            side = max(1, round(max(natural_w, natural_h)))
            canvas = (side, side)
        else:
            canvas = (max(1, round(natural_w)), max(1, round(natural_h)))

    placed = (max(1, round(rw * scale)), max(1, round(rh * scale)))
    placed = (min(placed[0], canvas[0]), min(placed[1], canvas[1]))
    used_w, used_h = size_at(scale) if spec.fill is None else (placed[0], placed[1])
    free_w, free_h = max(0.0, canvas[0] - used_w), max(0.0, canvas[1] - used_h)
    fx, fy = spec.anchor.fractions
    lead_x = (pct["left"] * scale + px["left"]) if spec.fill is None else 0.0
    lead_y = (pct["top"] * scale + px["top"]) if spec.fill is None else 0.0
    x = min(max(0, round(free_w * fx + lead_x)), canvas[0] - placed[0])
    y = min(max(0, round(free_h * fy + lead_y)), canvas[1] - placed[1])
    return Layout(source=region, scale=scale, placed=placed, offset=(x, y), canvas=canvas)


def _fill_scale(spec: VariantSpec, rw: int, rh: int) -> tuple[float, tuple[int, int]]:
    """With ``fill``, the subject's longer side takes ``fill`` of the canvas's longer side (contained)."""
    assert spec.fill is not None  # noqa: S101 - only called with fill
    fixed = spec.canvas.fixed_size
    if fixed is None:  # square: the canvas follows the subject, then min/max side
        side = max(rw, rh) / spec.fill
        scale = 1.0
        if spec.max_side is not None and side > spec.max_side:
            scale = spec.max_side / side
        if spec.min_side is not None and side * scale < spec.min_side:
            scale = spec.min_side / side
        canvas_side = max(1, round(side * scale))
        return scale, (canvas_side, canvas_side)
    canvas_w, canvas_h = fixed
    scale = spec.fill * max(canvas_w, canvas_h) / max(rw, rh)
    scale = min(scale, canvas_w / rw, canvas_h / rh)  # contain: never cut the subject
    return scale, (canvas_w, canvas_h)


def _constrained_scale(
    spec: VariantSpec, content_w: float, content_h: float, fixed_w: float, fixed_h: float, *, square: bool
) -> float:
    """1 (no resize) unless ``min_side``/``max_side`` ask otherwise; ``max_side`` wins a conflict."""
    scale = 1.0
    if spec.min_side is not None:
        needs = ((spec.min_side - fixed_w) / content_w, (spec.min_side - fixed_h) / content_h)
        # The shortest side reaches min_side (a square's one side: the longer content side does).
        scale = max(scale, min(needs) if square else max(needs))
    if spec.max_side is not None:
        limit = min((spec.max_side - fixed_w) / content_w, (spec.max_side - fixed_h) / content_h)
        if limit <= 0:
            raise LayoutImpossible(f"Variant {spec.name!r}: its pixel margins alone exceed max_side.")
        scale = min(scale, limit)
    return scale if math.isfinite(scale) else 1.0
