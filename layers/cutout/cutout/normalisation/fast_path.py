"""The fast path: which inputs go to the API as they are, by presigned URL, with no pixel decoded.

An input takes it when *every* condition holds, all read from its header by ``inspect_image``:

- JPEG, PNG or WebP (the formats the API reads), its header read (not TIFF/GIF/AVIF/HEIC/BMP);
- each side within the API's 100..3000 pixels;
- 8 bits per sample; mode RGB or L (grey): no CMYK, palette, 16-bit or alpha channel or tRNS;
- no ICC profile, or one whose primaries are sRGB's (``validation.icc_profile``);
- EXIF orientation 1 or absent (0 = present but unreadable or out of range: not provably upright);
- nothing after the image's end (a JPEG motion photo's video, a Samsung trailer);
- no EXIF, no XMP, no comment, no IPTC block, no PNG text chunk at all (``validation.metadata``):
  what reaches the vendor carries no metadata (camera serial numbers, GPS, capture times, names);
  normalisation strips every tag, and the outputs get the source's rights fields back from the
  source itself (``rights.py``). A PNG's text chunks after its image data are seen when they end
  within the tail read (``tail_bytes``, 256 bytes), as ImageMagick's dates do.
  ``normalise_gps_images`` (GPS data alone) is kept for the reason it gives, and is implied.

Anything else is normalised (``normalise``) from the original object. The decision is a pure
function of the header facts, so it costs nothing beyond today's ranged reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout.validation import ImageFacts, ImageLimits

FAST_PATH_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
FAST_PATH_MODES = frozenset({"RGB", "L"})


@dataclass(frozen=True, slots=True)
class FastPathDecision:
    """``taken`` when the input goes as it is; otherwise ``reasons`` says why it is normalised."""

    reasons: tuple[str, ...]

    @property
    def taken(self) -> bool:
        return not self.reasons


def decide_fast_path(
    facts: ImageFacts, limits: ImageLimits, *, normalise_gps_images: bool = False
) -> FastPathDecision:
    reasons: list[str] = []
    if facts.format not in FAST_PATH_FORMATS or not facts.header_read:
        reasons.append(f"format {facts.format}")
    else:
        if not (
            limits.min_side <= facts.width <= limits.max_side
            and limits.min_side <= facts.height <= limits.max_side
        ):
            reasons.append(f"size {facts.width}x{facts.height}")
        if facts.bits != 8:
            reasons.append(f"{facts.bits}-bit")
        if facts.mode not in FAST_PATH_MODES or facts.has_alpha:
            reasons.append(f"mode {facts.mode}{' with transparency' if facts.has_alpha else ''}")
        if facts.colour_profile not in ("none", "srgb"):
            reasons.append(f"colour profile {facts.colour_profile}")
        if facts.orientation != 1:
            reasons.append(f"orientation {facts.orientation}")
        if facts.trailing_data:
            reasons.append("data after the image (a motion photo's video, a phone's trailer)")
        if normalise_gps_images and facts.has_gps:
            reasons.append("GPS data")
        elif facts.has_metadata:
            reasons.append("metadata (EXIF, XMP, IPTC, comments, text) the vendor must not get")
    return FastPathDecision(tuple(reasons))
