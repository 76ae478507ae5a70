"""ImageLimits: each of its own checks from both sides, and the read budget it promises."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.validation import ImageLimits
from cutout.validation.limits import KIB, MIB, megapixels


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"max_object_bytes": 1}, True),
        ({"max_object_bytes": 0}, False),
        ({"max_object_bytes": -1}, False),
        ({"min_side": 1, "max_side": 1}, True),
        ({"min_side": 0}, False),
        ({"min_side": -1}, False),
        ({"min_side": 3000, "max_side": 3000}, True),
        ({"min_side": 3001, "max_side": 3000}, False),
        ({"head_bytes": 64}, True),
        ({"head_bytes": 63}, False),
        ({"head_bytes": 4 * MIB, "max_header_bytes": 4 * MIB}, True),
        ({"head_bytes": 4 * MIB + 1, "max_header_bytes": 4 * MIB}, False),
        ({"tail_bytes": 16}, True),
        ({"tail_bytes": 15}, False),
    ],
)
def test_each_limit_check_from_both_sides(fields: dict[str, Any], valid: bool) -> None:
    # Given limits at one side of one of their own checks
    # When they are made
    # Then they are accepted, or refused with a ValueError naming the rule
    if valid:
        limits = ImageLimits(**fields)
        assert all(getattr(limits, name) == value for name, value in fields.items())
    else:
        with pytest.raises(ValueError, match=r"must|need"):
            ImageLimits(**fields)


def test_the_default_read_budget_is_64_kib_then_512_kib_then_4_mib_and_a_256_byte_tail() -> None:
    # Given the default limits (what the README and the module docs promise to read at most)
    limits = ImageLimits()
    # When the successive header reads are listed
    # Then they are exactly 64 KiB, 512 KiB, 4 MiB, and the tail read is 256 bytes
    assert (KIB, MIB) == (1024, 1024 * 1024)
    assert limits.header_read_sizes() == (64 * 1024, 512 * 1024, 4 * 1024 * 1024)
    assert limits.tail_bytes == 256


def test_limits_cannot_be_changed_once_made() -> None:
    # Given limits
    limits = ImageLimits()
    # When a field is assigned
    # Then it is refused: the limits checked at start are the ones applied
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_object_bytes = 1  # type: ignore[misc]


@settings(max_examples=200, deadline=None)
@given(
    head=st.integers(64, 8 * MIB),
    cap=st.integers(64, 8 * MIB),
    steps=st.lists(st.integers(1, 10 * MIB), max_size=5),
)
def test_header_reads_grow_strictly_from_the_head_to_the_cap(head: int, cap: int, steps: list[int]) -> None:
    # Given any head read, cap and growth steps (head <= cap)
    head, cap = min(head, cap), max(head, cap)
    limits = ImageLimits(head_bytes=head, max_header_bytes=cap, header_growth_steps=tuple(steps))
    # When the successive reads are listed
    sizes = limits.header_read_sizes()
    # Then they start at the head read, end at the cap, grow strictly, and keep exactly the steps in between
    assert sizes[0] == head
    assert sizes[-1] == cap
    assert list(sizes) == sorted(set(sizes))
    assert set(sizes[1:-1]) == {step for step in steps if head < step < cap}


@pytest.mark.parametrize(
    ("pixels", "said"),
    [
        (50_000_000, "50"),
        (1_500_000, "1.5"),
        (123_456_789, "123.456789"),
        (1, "0.000001"),
        (100_000_000, "100"),
    ],
)
def test_a_pixel_ceiling_is_said_in_megapixels_exactly(pixels: int, said: str) -> None:
    # Given a pixel ceiling, When it is written for a sentence, Then it is exact, with no trailing zero
    assert megapixels(pixels) == said


@given(pixels=st.integers(min_value=1, max_value=10**12))
def test_megapixels_read_back_to_the_same_pixel_count(pixels: int) -> None:
    # Given any pixel count, When it is written in megapixels
    said = megapixels(pixels)
    # Then it reads back to exactly that count, in plain digits without trailing zeros
    assert Decimal(said) * 1_000_000 == pixels
    assert "E" not in said
    assert not ("." in said and said.endswith("0"))
