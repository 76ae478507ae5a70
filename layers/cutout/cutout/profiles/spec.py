"""What a deliverable is: a variant's typed specification, as a user writes it in ``profiles.toml``.

The vocabulary follows the public background-removal APIs, so a team that knows one knows this:
``crop`` to the subject and a CSS-like ``margin`` (remove.bg's ``crop``/``crop_margin``), a
``canvas`` with ``fit`` and ``anchor`` (Cloudinary's ``c_pad`` with gravity, Photoroom's
``outputSize``/alignment), ``fill`` (the share of the canvas the subject takes: Amazon's main image
asks for 85 %), ``background`` (``transparent``, ``white`` or ``#RRGGBB``), ``format``, ``quality``
and ``max_bytes``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cutout.profiles.presets import PRESETS

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


class Length(BaseModel):
    """A margin on one side: pixels of the output, or a percentage of the subject's size."""

    model_config = ConfigDict(frozen=True)

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


class Margin(BaseModel):
    """One, two or four lengths, as CSS writes them: all; vertical horizontal; top right bottom left."""

    model_config = ConfigDict(frozen=True)

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


class Canvas(BaseModel):
    """``WxH`` (fixed), ``square`` (the content's longer side) or ``none`` (the content's own size)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["fixed", "square", "none"]
    width: int | None = None
    height: int | None = None

    @classmethod
    def parse(cls, text: str) -> Canvas:
        text = str(text).strip().lower()
        if text in ("square", "none"):
            return cls(kind=text)
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


Quality = Annotated[int, Field(ge=1, le=100)]


class VariantSpec(BaseModel):
    """One deliverable made from the master (see the module docs for each field's meaning)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=VARIANT_NAME)
    format: OutputFormat = OutputFormat.PNG
    quality: Quality = 90
    max_bytes: int | None = Field(default=None, gt=1024)
    background: str = "transparent"
    crop: Literal["subject", "none"] = "subject"
    margin: Margin = NONE
    canvas: Canvas = Canvas(kind="none")
    fit: Literal["contain"] = "contain"
    anchor: Anchor = Anchor.CENTER
    fill: float | None = Field(default=None, gt=0.0, le=1.0)
    min_side: int | None = Field(default=None, ge=1, le=MAX_CANVAS_SIDE)
    max_side: int | None = Field(default=None, ge=1, le=MAX_CANVAS_SIDE)

    @model_validator(mode="before")
    @classmethod
    def _expand_preset(cls, entry: object) -> object:
        """``{ preset = "amazon-main", quality = 85 }``: the preset's fields, the entry's own keys winning."""
        if not isinstance(entry, Mapping) or "preset" not in entry:
            return entry
        fields = dict(entry)
        preset = fields.pop("preset")
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r} (known: {', '.join(sorted(PRESETS))})")
        return {"name": preset, **PRESETS[preset], **fields}

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(
                f"{value!r} is reserved for cutout's own outputs "
                f"(reserved: {', '.join(sorted(RESERVED_NAMES))})"
            )
        return value

    @field_validator("margin", mode="before")
    @classmethod
    def _parse_margin(cls, value: object) -> object:
        return Margin.parse(value) if isinstance(value, str | int | float) else value

    @field_validator("canvas", mode="before")
    @classmethod
    def _parse_canvas(cls, value: object) -> object:
        return Canvas.parse(value) if isinstance(value, str) else value

    @field_validator("background")
    @classmethod
    def _check_background(cls, value: str) -> str:
        _colour(value)
        return value.strip().lower()

    @model_validator(mode="after")
    def _consistent(self) -> VariantSpec:
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
        return self

    @property
    def background_rgb(self) -> tuple[int, int, int] | None:
        """The background colour, or ``None`` for a transparent one."""
        return _colour(self.background)
