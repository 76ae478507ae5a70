"""Profiles: parsing, validation errors that name file/profile/variant/field, and choosing one per upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutout.profiles import PRESETS, ProfilesError, UnknownProfile, load_profiles, parse_profiles
from cutout.profiles.spec import Anchor, Canvas, Margin, OutputFormat

SHIPPED = Path(__file__).parents[3] / "functions" / "process_upload" / "profiles.toml"

TWO_PROFILES = """
default = "site"

[profiles.site]
variants = [
  { preset = "web-transparent" },
  { name = "thumb", format = "webp", canvas = "400x400", fill = 0.9, background = "white" },
]

[profiles.shoes]
prefixes = ["shoes/"]
variants = [{ preset = "amazon-main" }]

[profiles.shoes-sale]
prefixes = ["shoes/sale/"]
variants = [{ preset = "amazon-main", quality = 85 }]
"""


def test_the_shipped_profiles_file_is_valid() -> None:
    # Given the profiles file that ships with the function
    # When it is loaded as the function loads it at start
    profiles = load_profiles(SHIPPED)
    # Then it has its default profile, and every preset it names is expanded
    assert profiles.default in profiles.profiles
    assert all(profile.variants for profile in profiles.profiles.values())


def test_a_preset_entry_takes_the_presets_fields_and_its_own_overrides() -> None:
    # Given a profile that uses a preset with one field overridden
    profiles = parse_profiles(TWO_PROFILES)
    # When its variant is read
    (variant,) = profiles.profiles["shoes-sale"].variants
    # Then the preset's numbers hold, except the overridden one
    assert variant.name == "amazon-main"
    assert variant.quality == 85
    assert variant.fill == PRESETS["amazon-main"]["fill"]
    assert variant.canvas == Canvas.parse("2000x2000")
    assert variant.format is OutputFormat.JPEG


@pytest.mark.parametrize(
    ("key", "metadata", "expected"),
    [
        ("hats/red.jpg", {}, "site"),  # no prefix matches: the default
        ("shoes/red.jpg", {}, "shoes"),
        ("shoes/sale/red.jpg", {}, "shoes-sale"),  # the longest prefix wins
        ("shoes/sale/red.jpg", {"cutout-profile": "site"}, "site"),  # the uploader's choice wins
    ],
)
def test_a_profile_is_chosen_by_metadata_then_longest_prefix_then_default(
    key: str, metadata: dict[str, str], expected: str
) -> None:
    # Given three profiles, two of them on nested prefixes
    profiles = parse_profiles(TWO_PROFILES)
    # When one is chosen for an upload
    chosen = profiles.choose(key, metadata)
    # Then it is the expected one
    assert chosen.name == expected


def test_an_unknown_profile_in_the_metadata_is_refused_with_its_reason() -> None:
    # Given profiles without "catalogue"
    profiles = parse_profiles(TWO_PROFILES)
    # When an upload names it
    with pytest.raises(UnknownProfile) as raised:
        profiles.choose("any.jpg", {"cutout-profile": "catalogue"})
    # Then it is refused (before paying: the conductor asks first), naming the known ones
    assert raised.value.code == "unknown_profile"
    assert not raised.value.retryable
    assert "'catalogue'" in raised.value.message
    assert "shoes, shoes-sale, site" in raised.value.message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "big", quality = 101 }]',
            "profiles.toml: profile 'a': variant 'big' (#1): quality: ",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ preset = "alibaba" }]',
            "profiles.toml: profile 'a': variant 'alibaba' (#1): ",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x", format = "jpeg" }]',
            "background 'transparent' needs a format with alpha",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x", canvas = "big" }]',
            "profile 'a': variant 'x' (#1): canvas: ",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x", canvas = [600, 600] }]',
            "variant 'x' (#1): canvas: a canvas is a string, not a list: write canvas = \"600x600\"",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x", margin = "1px 2px 3px" }]',
            "a margin has one, two or four values",
        ),
        (
            'default = "a"\n[profiles.a]\n'
            'variants = [{ name = "x", canvas = "square", fill = 0.9, margin = "5%" }]',
            "either 'fill'",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x", fill = 0.9 }]',
            "'fill' needs a canvas",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "masters" }]',
            "reserved for cutout's own outputs",
        ),
        (
            'default = "a"\n[profiles.a]\nvariants = [{ name = "x" }, { name = "x" }]',
            "repeated: x",
        ),
        (
            'default = "b"\n[profiles.a]\nvariants = [{ name = "x" }]',
            "the default profile 'b' is not defined",
        ),
        (
            'default = "a"\n[profiles.a]\nprefixes = ["p/"]\nvariants = [{ name = "x" }]\n'
            '[profiles.b]\nprefixes = ["p/"]\nvariants = [{ name = "y" }]',
            "prefix 'p/' is claimed by both 'a' and 'b'",
        ),
        ('default = "a"\n[profiles.a]\nvariants = [{ name = "x", colour = "red" }]', "colour: unknown field"),
        ("default = ", "profiles.toml: not valid TOML"),
    ],
)
def test_an_invalid_file_is_refused_with_the_file_profile_variant_and_field(toml: str, expected: str) -> None:
    # Given a profiles file with one mistake
    # When it is parsed
    with pytest.raises(ProfilesError) as raised:
        parse_profiles(toml)
    # Then the error says where the mistake is
    assert expected in str(raised.value)


def test_a_missing_file_is_a_profiles_error_naming_it(tmp_path: Path) -> None:
    # Given a path where no file is
    missing = tmp_path / "nope.toml"
    # When it is loaded
    with pytest.raises(ProfilesError) as raised:
        load_profiles(missing)
    # Then the error names the file
    assert str(missing) in str(raised.value)


@pytest.mark.parametrize(
    ("text", "sides"),
    [
        ("10px", ("10px", "10px", "10px", "10px")),
        (8, ("8px", "8px", "8px", "8px")),
        ("5% 10px", ("5%", "10px", "5%", "10px")),
        ("1px 2px 3px 4%", ("1px", "2px", "3px", "4%")),
    ],
)
def test_margins_take_one_two_or_four_values_in_css_order(text: str | int, sides: tuple[str, ...]) -> None:
    # Given a margin as a user writes it
    # When it is parsed
    margin = Margin.parse(text)
    # Then each side is the CSS side
    assert tuple(str(side) for side in (margin.top, margin.right, margin.bottom, margin.left)) == sides


def test_anchors_place_the_free_space() -> None:
    # Given the anchors
    # When their fractions are read
    # Then left/top put the subject first, right/bottom last, center in the middle
    assert Anchor.CENTER.fractions == (0.5, 0.5)
    assert Anchor.BOTTOM.fractions == (0.5, 1.0)
    assert Anchor.TOP_LEFT.fractions == (0.0, 0.0)
