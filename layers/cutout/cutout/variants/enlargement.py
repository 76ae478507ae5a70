"""How much each variant enlarges the product, and whether that is known to be too much before paying.

A variant places the product at a size of its own (``amazon-main``: 1,700 px on its longer side).
A product smaller than that is enlarged, and enlarging invents no detail: past a few times its
size, edges turn soft and blocky. ``QualityThresholds.max_enlargement`` (3× by default) is the
limit: a variant that needs more is *held* for review with the reason ``upscaled``.

Each variant therefore has a minimum product size: what it places divided by the limit
(``amazon-main``: 1,700 / 3 = 567 px). The product is never larger than the photo, so the photo's
size alone can prove, before the paid call, that every variant of the profile would be enlarged
past the limit: such an upload is refused before paying (``product_too_small``). When only some
variants would be (a 160×120 photo: ``web-transparent`` is made at its own size, ``amazon-main``
could not be), the call is worth paying for and the cut-out is held for a person to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from cutout.failures import FailureReason
from cutout.variants.layout import Box, plan_layout

if TYPE_CHECKING:
    from PIL import Image

    from cutout.profiles import Profile, VariantSpec


class ProductTooSmall(FailureReason):
    """Even filling the whole photo, the product would be enlarged past the limit for every variant."""

    code = "product_too_small"
    retryable = False


def _scale(size: tuple[int, int], subject: Box | None, spec: VariantSpec) -> float:
    return plan_layout(size, subject, spec).scale


def enlargements(master: Image.Image, profile: Profile) -> dict[str, float]:
    """Each variant's enlargement of the product in ``master`` (1.0: its own size; below: reduced)."""
    from cutout.variants.render import subject_box

    subject = subject_box(master)
    return {spec.name: _scale(master.size, subject, spec) for spec in profile.variants}


def least_enlargements(width: int, height: int, profile: Profile) -> dict[str, float]:
    """Each variant's enlargement if the product filled the whole ``width`` x ``height`` photo.

    That is the least it can be: a product is never larger than its photo. Both orientations are
    tried (the photo may still be turned upright by its EXIF orientation).
    """
    result: dict[str, float] = {}
    for spec in profile.variants:
        result[spec.name] = min(
            _scale((w, h), Box(0, 0, w, h), spec) for (w, h) in ((width, height), (height, width))
        )
    return result


def over_limit(scales: Mapping[str, float], limit: float) -> dict[str, float]:
    """The variants enlarged by more than ``limit``."""
    return {name: scale for name, scale in scales.items() if scale > limit}


def refuse_if_too_small(width: int, height: int, profile: Profile) -> None:
    """Raise ``ProductTooSmall`` when the photo's size proves every variant would be over the limit.

    Nothing is known (``width``/``height`` 0, a format whose header comes later) or the gate is
    off: nothing is refused.
    """
    thresholds = profile.quality
    if not thresholds.enabled or width <= 0 or height <= 0:
        return
    limit = thresholds.max_enlargement
    least = least_enlargements(width, height, profile)
    if least and len(over_limit(least, limit)) == len(least):
        name, scale = min(least.items(), key=lambda item: item[1])
        raise ProductTooSmall(
            f"The photo is {width}×{height} pixels: even a product filling it would be enlarged "
            f"{scale:.1f}× for variant {name!r}, the least of the variants of profile {profile.name!r}, "
            f"over the {limit:g}× limit (quality.max_enlargement). Upload a larger photo."
        )


def refuse_if_too_small_for(metadata: Mapping[str, str], profile: Profile) -> None:
    """``refuse_if_too_small`` with the source's size from the prepared source's metadata."""
    refuse_if_too_small(
        _integer(metadata.get("source-width")), _integer(metadata.get("source-height")), profile
    )


def _integer(value: str | None) -> int:
    return int(value) if value is not None and value.isdigit() else 0
