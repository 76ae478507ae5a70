"""Aidge sign_ver v2: the published test vector and the query every call carries."""

from __future__ import annotations

import pytest

from cutout.engine.aidge.signing import sign, signed_query, timestamp_ms, verify

VECTOR_SECRET = "S4etzZ73nF08vOXVhk3wZjIaLSHw0123"
VECTOR_TIMESTAMP = "1719383457000"
VECTOR_SIGN = "A1F9D033A3739AA414B7FE0FFC44805488A986F81C223F4B264F941DE85C42A8"


def test_sign_matches_the_published_test_vector() -> None:
    # Given the secret and timestamp of the worked example in aidge-protocol.md
    # When signing
    signature = sign(VECTOR_SECRET, VECTOR_TIMESTAMP)
    # Then the upper-case hex HMAC-SHA256 is the published one
    assert signature == VECTOR_SIGN


def test_signed_query_carries_the_six_parameters() -> None:
    # Given the moment of the worked example (seconds)
    now = int(VECTOR_TIMESTAMP) / 1000
    # When building the query
    query = signed_query("512345", VECTOR_SECRET, now=now)
    # Then all six parameters are there with the documented values
    assert query == {
        "partner_id": "aidge",
        "sign_method": "sha256",
        "sign_ver": "v2",
        "app_key": "512345",
        "timestamp": VECTOR_TIMESTAMP,
        "sign": VECTOR_SIGN,
    }


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        (VECTOR_SIGN, True),
        (VECTOR_SIGN.lower(), True),
        ("0" * 64, False),
    ],
)
def test_verify_accepts_only_the_right_signature(signature: str, expected: bool) -> None:
    # Given a signature for the worked example
    # When the emulator's side verifies it
    result = verify(VECTOR_SECRET, VECTOR_TIMESTAMP, signature)
    # Then only the right one (in either case) passes
    assert result is expected


def test_timestamp_is_milliseconds() -> None:
    # Given a moment with a fraction of a second
    # When turning it into the timestamp parameter
    stamp = timestamp_ms(1719383457.1239)
    # Then it is whole milliseconds as a decimal string
    assert stamp == "1719383457123"
