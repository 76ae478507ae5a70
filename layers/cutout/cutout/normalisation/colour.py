"""To 8-bit sRGB (RGB, RGBA or L) through the embedded ICC profile, with LittleCMS (``ImageCms``).

- CMYK with a profile: the profile -> sRGB (perceptual). Without one: Pillow's naive inversion
  (Pillow ships no CMYK profile and we bundle none: colours may shift; the report says "naive").
- RGB(A) with a non-sRGB profile (Adobe RGB, Display P3, ...): the profile -> sRGB, alpha kept.
- Grey stays grey (L); its profile's tone curve is ignored (grey has no gamut to map).
- 16-bit grey (I;16*) scales by 1/257 to 8 bits (never clipped as a plain convert would);
  16-bit RGB(A) is read by Pillow as its high bytes already.
- Palette, LA, 1-bit -> RGB, RGBA (palette with transparency) or L.
- A profile LittleCMS cannot read, or one made for other colours than the image's, is refused
  with ``corrupt_color_profile``.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageCms

from cutout.validation import ImageRejected, RejectionCode
from cutout.validation.icc_profile import parse_profile, profile_kind

_SRGB = ImageCms.createProfile("sRGB")


def _description(profile: ImageCms.ImageCmsProfile) -> str:
    text = (profile.profile.profile_description or "embedded profile").strip()
    return "".join(character for character in text if character.isprintable())[:40]


def corrupt_profile(why: str) -> ImageRejected:
    return ImageRejected(
        RejectionCode.CORRUPT_COLOR_PROFILE,
        f"The image's embedded ICC colour profile {why}, so its colours cannot be converted to sRGB; "
        "re-export it with a valid profile (or none) and upload it again.",
    )


def to_srgb(image: Image.Image, icc: bytes | None) -> tuple[Image.Image, str]:
    """The image in sRGB (mode RGB, RGBA or L) and a short label of the conversion done."""
    labels: list[str] = []
    image = _to_8_bit(image, labels)
    if icc and profile_kind(icc) == "corrupt":
        raise corrupt_profile("cannot be read")
    if image.mode == "CMYK":
        if icc:
            return _through_profile(image, icc, "RGB"), f"{_name(icc)} CMYK -> sRGB"
        return image.convert("RGB"), "CMYK (no profile, naive) -> sRGB"
    if image.mode in ("LAB", "YCbCr", "HSV"):
        return image.convert("RGB"), f"{image.mode} -> sRGB"
    if image.mode in ("RGB", "RGBA") and icc and profile_kind(icc) == "other":
        converted = _through_profile(image, icc, image.mode)
        labels.append(f"{_name(icc)} -> sRGB")
        return converted, ", ".join(labels)
    return image, ", ".join(labels) or "none"


def _to_8_bit(image: Image.Image, labels: list[str]) -> Image.Image:
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        labels.append("16-bit grey -> 8-bit")
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if mode == "1":
        return image.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        labels.append("palette -> RGBA" if has_alpha else "palette -> RGB")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return image.convert("RGBA" if has_alpha else "RGB")
    if mode == "LA":
        labels.append("grey+alpha -> RGBA")
        return image.convert("RGBA")
    if mode == "RGBa":
        return image.convert("RGBA")
    return image


def _name(icc: bytes) -> str:
    profile = parse_profile(icc)
    return _description(profile) if profile is not None else "embedded profile"


def _through_profile(image: Image.Image, icc: bytes, output_mode: str) -> Image.Image:
    try:
        converted = ImageCms.profileToProfile(
            image,
            io.BytesIO(icc),
            _SRGB,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode=output_mode,
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        raise corrupt_profile(f"does not describe its {image.mode} colours") from error
    if converted is None:  # only with inPlace=True, which is not used
        raise corrupt_profile("could not be applied")
    return converted
