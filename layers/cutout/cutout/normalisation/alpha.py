"""What an image's alpha channel says, from its histogram and its border: the facts the
passthrough decision ("already a cut-out") needs, computed while the pixels are loaded."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

TRANSPARENT_MAX = 8  # alpha at or below: background
OPAQUE_MIN = 247  # alpha at or above: subject


@dataclass(frozen=True, slots=True)
class AlphaFacts:
    """Fractions of the image's pixels, and of its 1-pixel border, by alpha."""

    transparent: float  # alpha <= 8
    opaque: float  # alpha >= 247
    border_transparent: float  # of the outer 1-pixel frame

    @property
    def partial(self) -> float:
        return max(0.0, 1.0 - self.transparent - self.opaque)

    @property
    def fully_opaque(self) -> bool:
        return self.transparent == 0.0 and self.partial == 0.0


def alpha_facts(image: Image.Image) -> AlphaFacts | None:
    """The facts of an RGBA/LA image's alpha; None when it has no alpha channel."""
    if image.mode not in ("RGBA", "LA"):
        return None
    alpha = image.getchannel("A")
    total = alpha.width * alpha.height
    histogram = alpha.histogram()
    transparent = sum(histogram[: TRANSPARENT_MAX + 1]) / total
    opaque = sum(histogram[OPAQUE_MIN:]) / total
    return AlphaFacts(transparent, opaque, _border_transparent(alpha))


def _border_transparent(alpha: Image.Image) -> float:
    width, height = alpha.size
    strips = [(0, 0, width, 1), (0, height - 1, width, height)]
    if height > 2:
        strips += [(0, 1, 1, height - 1), (width - 1, 1, width, height - 1)]
    counted = transparent = 0
    for box in strips:
        histogram = alpha.crop(box).histogram()
        counted += sum(histogram)
        transparent += sum(histogram[: TRANSPARENT_MAX + 1])
    return transparent / counted if counted else 0.0
