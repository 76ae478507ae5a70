"""The built-in profile of the single cut-out mode (``ProfilesFile: ""``): one variant, as returned.

Without a profiles file every upload gets one output, made by the API itself: the paid call asks
for the settings' background and target size, and the result is stored unchanged (its bytes,
content type and extension) at the source key plus the result's extension (``red.jpg`` →
``red.jpg.png``), with no variant folder. That one output is the master too: nothing is stored
under ``masters/``, and an output already made from these very bytes is what a re-upload reuses.
It runs through the same deliver step as every other profile (``cutout.deliver.ProfileDelivery``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout.engine.port import Background, CutoutOptions
from cutout.profiles.profile_set import Profile
from cutout.quality_gate.thresholds import QualityThresholds

SINGLE_PROFILE = "single"
# The extension each background is expected to come back as (checked again on the real bytes).
EXPECTED_EXTENSIONS = {Background.TRANSPARENT: (".png",), Background.WHITE: (".jpg", ".png")}


@dataclass(frozen=True, slots=True)
class AsReturned:
    """A variant of the kind "as returned": the paid call's result unchanged, at the source key plus
    the result's extension. ``extensions``: those the result may come back with (the output keys a
    stored output is looked for at, and that must fit S3's key limit before paying)."""

    name: str
    extensions: tuple[str, ...]


class SingleProfile(Profile, frozen=True, kw_only=True):
    """A profile whose one variant is the paid call's result as returned (never in a profiles file).

    ``paid_call``: what the API is asked to make (background, target size); ``returned``: the variant.
    """

    paid_call: CutoutOptions
    returned: AsReturned


def single_profile(options: CutoutOptions, quality: QualityThresholds) -> SingleProfile:
    """The single cut-out mode's profile: the API makes ``options``' output, judged by ``quality``."""
    return SingleProfile(
        name=SINGLE_PROFILE,
        variants=(),
        quality=quality,
        paid_call=options,
        returned=AsReturned(name="cutout", extensions=EXPECTED_EXTENSIONS[options.background]),
    )
