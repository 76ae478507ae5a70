"""What a deliverable is: a variant's typed specification, as a user writes it in ``profiles.toml``.

The vocabulary follows the public background-removal APIs, so a team that knows one knows this:
``crop`` to the subject and a CSS-like ``margin`` (remove.bg's ``crop``/``crop_margin``), a
``canvas`` with ``fit`` and ``anchor`` (Cloudinary's ``c_pad`` with gravity, Photoroom's
``outputSize``/alignment), ``fill`` (the share of the canvas the subject takes: Amazon's main image
asks for 85 %), ``background`` (``transparent``, ``white`` or ``#RRGGBB``), ``format``, ``quality``
and ``max_bytes``. ``shadow`` follows remove.bg's ``add_shadow``, Photoroom's ``shadow.mode`` with its
direction/softness/intensity overrides and Cloudinary's ``e_dropshadow`` (azimuth, spread): a
``contact``, ``drop`` or ``reflection`` shadow drawn from the master's alpha, at no API cost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal

from msgspec import Meta

from cutout.profiles.presets import PRESETS
from cutout.typed import Model, Problem, ValidationError

VARIANT_NAME = r"^[a-z0-9][a-z0-9-]{0,62}$"
_HEX_COLOUR = re.compile(r"^#([0-9a-fA-F]{6})$")
_CANVAS = re.compile(r"^(?P<width>[1-9][0-9]{0,4})x(?P<height>[1-9][0-9]{0,4})$")
_LENGTH = re.compile(r"^(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<unit>px|%)$")
# Top-level output prefixes cutout uses itself: a variant (whose name is its prefix) cannot take them.
RESERVED_NAMES = frozenset({"masters", "review", "staging"})
MAX_CANVAS_SIDE = 10_000  # Amazon's longest-side ceiling; far above any marketplace's recommendation


class OutputFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"
    AVIF = "avif"

    @property
    def extension(self) -> str:
        return {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "avif": ".avif"}[self.value]

    @property
    def content_type(self) -> str:
        return f"image/{self.value}"

    @property
    def has_alpha(self) -> bool:
        return self is not OutputFormat.JPEG

    @property
    def lossy(self) -> bool:
        return self is not OutputFormat.PNG


class Anchor(StrEnum):
    """Where the subject sits in the space the canvas leaves (Cloudinary's gravity)."""

    CENTER = "center"
    TOP = "top"
    BOTTOM = "bottom"
    LEFT = "left"
    RIGHT = "right"
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"

    @property
    def fractions(self) -> tuple[float, float]:
        """(x, y) share of the free space placed before the subject: 0 left/top, 1 right/bottom."""
        x = 0.0 if "left" in self.value else 1.0 if "right" in self.value else 0.5
        y = 0.0 if "top" in self.value else 1.0 if "bottom" in self.value else 0.5
        return x, y


class Length(Model, frozen=True, kw_only=True):
    """A margin on one side: pixels of the output, or a percentage of the subject's size."""

    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str | int | float) -> Length:
        if isinstance(text, int | float) and not isinstance(text, bool):
            if text < 0:
                raise ValueError("a margin cannot be negative")
            return cls(value=float(text), percent=False)
        match = _LENGTH.fullmatch(str(text).strip())
        if match is None:
            raise ValueError(f"{text!r} is not a length: write pixels ('24px' or 24) or a percentage ('5%')")
        value = float(match["number"])
        if match["unit"] == "%" and value > 100:
            raise ValueError(f"{text!r}: a margin of more than 100 % of the subject is not a margin")
        return cls(value=value, percent=match["unit"] == "%")

    def pixels(self, subject_side: float) -> float:
        """This length in pixels of the subject's scale (before any resize)."""
        return self.value * subject_side / 100.0 if self.percent else self.value

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{number}%" if self.percent else f"{number}px"


class Margin(Model, frozen=True, kw_only=True):
    """One, two or four lengths, as CSS writes them: all; vertical horizontal; top right bottom left."""

    top: Length
    right: Length
    bottom: Length
    left: Length

    @classmethod
    def parse(cls, text: str | int | float) -> Margin:
        parts = [text] if isinstance(text, int | float) else str(text).split()
        lengths = [Length.parse(part) for part in parts]
        if len(lengths) == 1:
            top = right = bottom = left = lengths[0]
        elif len(lengths) == 2:
            (top, right), (bottom, left) = lengths, lengths
        elif len(lengths) == 4:
            top, right, bottom, left = lengths
        else:
            raise ValueError(
                f"{text!r}: a margin has one, two or four values (CSS order: top right bottom left)"
            )
        return cls(top=top, right=right, bottom=bottom, left=left)


NONE = Margin.parse(0)

ShadowMode = Literal["contact", "drop", "reflection"]
Opacity = Annotated[float, Meta(ge=0.0, le=1.0)]
# Per mode: (direction, distance, softness, opacity, fade), the defaults of what the mode uses.
_SHADOW_DEFAULTS: dict[str, dict[str, object]] = {
    "contact": {"softness": "1.5%", "opacity": 0.55},
    "drop": {"direction": 135.0, "distance": "2.5%", "softness": "2%", "opacity": 0.35},
    "reflection": {"distance": "0px", "opacity": 0.3, "fade": "35%"},
}
_SHADOW_LENGTHS = ("distance", "softness", "fade")


class Shadow(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A shadow drawn locally from the master's alpha, under the subject (no API call).

    - ``contact``: a soft shadow where the product meets the floor (its base, flattened and blurred);
    - ``drop``: the silhouette cast ``distance`` toward ``direction`` (degrees clockwise from up, as
      a compass: 90 right, 135 down-right, 180 straight down), blurred by ``softness``;
    - ``reflection``: the product mirrored below its base, ``distance`` under it, fading from
      ``opacity`` to nothing over ``fade``.

    Lengths are output pixels (``12px``) or a percentage of the placed subject's longer side
    (``2%``), so a shadow keeps its look at every canvas size. A field the mode does not use is an
    error, not silently ignored; the ones left out take the mode's defaults.
    """

    mode: ShadowMode
    direction: Annotated[float, Meta(ge=0.0, le=360.0)] = 0.0
    distance: Length = Length(value=0.0, percent=False)
    softness: Length = Length(value=0.0, percent=False)
    opacity: Opacity = 0.0
    fade: Length = Length(value=0.0, percent=False)

    @classmethod
    def _prepare(cls, obj: object) -> object:
        """``"drop"`` is ``{ mode = "drop" }``; the mode's defaults fill what is left out."""
        if isinstance(obj, str):
            obj = {"mode": obj.strip().lower()}
        if not isinstance(obj, Mapping):
            return obj
        fields = dict(obj)
        mode = fields.get("mode")
        if not isinstance(mode, str) or mode not in _SHADOW_DEFAULTS:
            return fields  # msgspec names the missing or unknown mode
        defaults = _SHADOW_DEFAULTS[mode]
        unused = sorted(set(fields) - set(defaults) - {"mode"})
        known = {"direction", "distance", "softness", "opacity", "fade"}
        if unused and set(unused) <= known:
            raise _invalid(
                (unused[0],),
                f"a {mode} shadow has no {unused[0]!r} (it takes {', '.join(sorted(defaults))})",
            )
        fields = {**defaults, **fields}
        for name in _SHADOW_LENGTHS:
            value = fields.get(name)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                try:
                    fields[name] = Length.parse(value)
                except ValueError as error:
                    raise _invalid((name,), str(error)) from None
        return fields


class Canvas(Model, frozen=True, kw_only=True):
    """``WxH`` (fixed), ``square`` (the content's longer side) or ``none`` (the content's own size)."""

    kind: Literal["fixed", "square", "none"]
    width: int | None = None
    height: int | None = None

    @classmethod
    def parse(cls, text: str) -> Canvas:
        text = str(text).strip().lower()
        if text == "square":
            return cls(kind="square")
        if text == "none":
            return cls(kind="none")
        match = _CANVAS.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a canvas: write 'WxH' (e.g. '2000x2000'), 'square' or 'none'")
        width, height = int(match["width"]), int(match["height"])
        if max(width, height) > MAX_CANVAS_SIDE:
            raise ValueError(f"{text!r}: a canvas side is at most {MAX_CANVAS_SIDE} pixels")
        return cls(kind="fixed", width=width, height=height)

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None


def _colour(text: str) -> tuple[int, int, int] | None:
    """``None`` for transparent, else the RGB triple."""
    text = text.strip().lower()
    if text == "transparent":
        return None
    if text == "white":
        return (255, 255, 255)
    match = _HEX_COLOUR.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a background: write 'transparent', 'white' or '#RRGGBB'")
    value = int(match[1], 16)
    return (value >> 16 & 0xFF, value >> 8 & 0xFF, value & 0xFF)


Quality = Annotated[int, Meta(ge=1, le=100)]
Side = Annotated[int, Meta(ge=1, le=MAX_CANVAS_SIDE)]


def _shadow_field(shadow: object) -> Shadow | None:
    """A variant's ``shadow``: ``"none"``/absent, a kind's name, or a table of settings."""
    if shadow is None or (isinstance(shadow, str) and shadow.strip().lower() == "none"):
        return None
    try:
        return Shadow.model_validate(shadow)
    except ValidationError as error:
        raise error.within(("shadow",)) from None


class VariantSpec(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One deliverable made from the master (see the module docs for each field's meaning)."""

    name: Annotated[str, Meta(pattern=VARIANT_NAME)]
    format: OutputFormat = OutputFormat.PNG
    quality: Quality = 90
    max_bytes: Annotated[int, Meta(gt=1024)] | None = None
    background: str = "transparent"
    crop: Literal["subject", "none"] = "subject"
    margin: Margin = NONE
    canvas: Canvas = Canvas(kind="none")
    fit: Literal["contain"] = "contain"
    anchor: Anchor = Anchor.CENTER
    fill: Annotated[float, Meta(gt=0.0, le=1.0)] | None = None
    min_side: Side | None = None
    max_side: Side | None = None
    shadow: Shadow | None = None
    # The rule wants the backdrop exactly its colour at the corners and in the margins' outer half
    # (Amazon's pure white, no border): a shadow never reaches there. The marketplace presets set it.
    clear_margins: bool = False
    # Recolour the soft edge from the opaque subject (see cutout.variants.render); off: as the API gave it.
    decontaminate: bool = True

    @classmethod
    def _prepare(cls, obj: object) -> object:
        """Expand a preset, read ``margin``/``canvas`` shorthands, check the name and the background.

        ``{ preset = "amazon-main", quality = 85 }``: the preset's fields, the entry's own keys winning.
        """
        if not isinstance(obj, Mapping):
            return obj
        fields = dict(obj)
        if "preset" in fields:
            preset = fields.pop("preset")
            if preset not in PRESETS:
                raise _invalid((), f"unknown preset {preset!r} (known: {', '.join(sorted(PRESETS))})")
            fields = {"name": preset, **PRESETS[preset], **fields}
        name = fields.get("name")
        if isinstance(name, str) and name in RESERVED_NAMES:
            reserved = ", ".join(sorted(RESERVED_NAMES))
            raise _invalid(("name",), f"{name!r} is reserved for cutout's own outputs (reserved: {reserved})")
        if "shadow" in fields:
            fields["shadow"] = _shadow_field(fields["shadow"])
        for field, parse in (("margin", Margin.parse), ("canvas", Canvas.parse)):
            value = fields.get(field)
            kinds = (str,) if field == "canvas" else (str, int, float)
            if isinstance(value, kinds) and not isinstance(value, bool):
                try:
                    fields[field] = parse(value)  # type: ignore[arg-type]  # checked just above
                except ValueError as error:
                    raise _invalid((field,), str(error)) from None
            elif field == "canvas" and isinstance(value, list | tuple):
                # `canvas = [600, 600]` reads naturally in TOML; say what to write instead of
                # msgspec's "Expected `object`, got `array`"
                shown = "x".join(str(side) for side in value) if value else "WxH"
                raise _invalid(
                    (field,),
                    f"a canvas is a string, not a list: write canvas = \"{shown}\" ('WxH'), "
                    "'square' or 'none'",
                )
        background = fields.get("background")
        if isinstance(background, str):
            try:
                _colour(background)
            except ValueError as error:
                raise _invalid(("background",), str(error)) from None
            fields["background"] = background.strip().lower()
        return fields

    def __post_init__(self) -> None:
        if self.background_rgb is None and not self.format.has_alpha:
            raise ValueError(
                "background 'transparent' needs a format with alpha (png, webp, avif), "
                f"not {self.format.value}"
            )
        if self.fill is not None and self.margin != NONE:
            raise ValueError("give either 'fill' (the subject's share of the canvas) or 'margin', not both")
        if self.fill is not None and self.canvas.kind == "none":
            raise ValueError("'fill' needs a canvas ('square' or 'WxH'): it is a share of the canvas")
        if self.canvas.kind == "fixed" and (self.min_side is not None or self.max_side is not None):
            raise ValueError("a fixed 'WxH' canvas has its size already: drop 'min_side'/'max_side'")
        if self.min_side is not None and self.max_side is not None and self.min_side > self.max_side:
            raise ValueError(f"min_side ({self.min_side}) is larger than max_side ({self.max_side})")

    @property
    def background_rgb(self) -> tuple[int, int, int] | None:
        """The background colour, or ``None`` for a transparent one."""
        return _colour(self.background)


def _invalid(loc: tuple[str, ...], message: str) -> ValidationError:
    return ValidationError("VariantSpec", [Problem(loc=loc, msg=message)])
