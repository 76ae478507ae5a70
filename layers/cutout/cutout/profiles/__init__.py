"""Deliverables as a user configures them: variant specs, marketplace presets and profiles."""

from cutout.profiles.builtin import (
    EXPECTED_EXTENSIONS,
    SINGLE_PROFILE,
    AsReturned,
    SingleProfile,
    single_profile,
)
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
    "EXPECTED_EXTENSIONS",
    "PRESETS",
    "PROFILE_METADATA_KEY",
    "RULES",
    "SINGLE_PROFILE",
    "Anchor",
    "AsReturned",
    "Canvas",
    "Length",
    "Margin",
    "OutputFormat",
    "PresetRule",
    "Profile",
    "ProfileSet",
    "ProfilesError",
    "SingleProfile",
    "UnknownProfile",
    "VariantSpec",
    "configured_profiles",
    "load_profiles",
    "parse_profiles",
    "single_profile",
]
