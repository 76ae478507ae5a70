"""What an embedded ICC profile is, from its bytes (a header fact: no pixels are touched).

``profile_kind`` says ``"none"``, ``"srgb"``, ``"other"`` or ``"corrupt"``. A profile counts as
sRGB when LittleCMS parses it, it is an RGB profile, and its red, green and blue colorants are
within 0.002 (XYZ, D50) of LittleCMS's own sRGB: that covers "sRGB IEC61966-2.1", "sRGB built-in"
and the camera makers' copies, and rejects Display P3 and Adobe RGB (1998), whose primaries differ
by 0.05 or more. Anything uncertain is "other": the image is then converted, never sent as-is.
"""

from __future__ import annotations

import io
import warnings
from functools import lru_cache
from typing import Literal

from PIL import ImageCms

ProfileKind = Literal["none", "srgb", "other", "corrupt"]
_COLORANT_TOLERANCE = 0.002
_MAX_PROFILE_BYTES = 4 * 1024 * 1024


def parse_profile(icc: bytes) -> ImageCms.ImageCmsProfile | None:
    """The profile LittleCMS reads from ``icc``, or None when it is not a readable profile."""
    if not icc or len(icc) > _MAX_PROFILE_BYTES:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return None


def profile_kind(icc: bytes | None) -> ProfileKind:
    if not icc:
        return "none"
    profile = parse_profile(icc)
    if profile is None:
        return "corrupt"
    return "srgb" if _is_srgb(profile) else "other"


def _colorants(profile: ImageCms.ImageCmsProfile) -> tuple[tuple[float, float, float], ...] | None:
    core = profile.profile
    if core.xcolor_space.strip() != "RGB":
        return None
    colorants = (core.red_colorant, core.green_colorant, core.blue_colorant)
    if any(colorant is None for colorant in colorants):
        return None
    return tuple(tuple(float(value) for value in colorant[0]) for colorant in colorants)  # type: ignore[index,misc]


@lru_cache(maxsize=1)
def _srgb_colorants() -> tuple[tuple[float, float, float], ...]:
    colorants = _colorants(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")))
    if colorants is None:  # pragma: no cover  (LittleCMS's own sRGB has colorants)
        raise RuntimeError("LittleCMS's sRGB profile has no colorants")
    return colorants


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    try:
        colorants = _colorants(profile)
    except (AttributeError, TypeError, ValueError, IndexError):
        return False
    if colorants is None:
        return False
    return all(
        abs(value - reference) <= _COLORANT_TOLERANCE
        for colorant, srgb in zip(colorants, _srgb_colorants(), strict=True)
        for value, reference in zip(colorant, srgb, strict=True)
    )
