"""Deliverables as a user configures them: variant specs, marketplace presets and profiles."""

from cutout.profiles.presets import PRESETS, RULES, PresetRule
from cutout.profiles.profile_set import (
    PROFILE_METADATA_KEY,
    Profile,
    ProfilesError,
    ProfileSet,
    UnknownProfile,
    configured_profiles,
    load_profiles,
    parse_profiles,
)
from cutout.profiles.spec import Anchor, Canvas, Length, Margin, OutputFormat, VariantSpec

__all__ = [
    "PRESETS",
    "PROFILE_METADATA_KEY",
    "RULES",
    "Anchor",
    "Canvas",
    "Length",
    "Margin",
    "OutputFormat",
    "PresetRule",
    "Profile",
    "ProfileSet",
    "ProfilesError",
    "UnknownProfile",
    "VariantSpec",
    "configured_profiles",
    "load_profiles",
    "parse_profiles",
]
