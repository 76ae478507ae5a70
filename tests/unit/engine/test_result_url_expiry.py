"""The result URL's ``Expires``: read when it is a plain number, ``None`` for anything else, never a crash.

It is read right after a billed success, to keep in the receipt: an exception there would lose the
receipt of a paid call, so any text in the URL (Unicode digits, signs, spaces, garbage) is held to it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.engine.aidge import AidgeClient
from cutout.engine.aidge.result_url import expires_at
from cutout.engine.port import CutoutOptions, ImageUrl
from tests.unit.engine.aidge_doubles import RESULT_HOST, FakeServers, json_response, success_envelope

BASE = f"https://{RESULT_HOST}/data/cut.png?OSSAccessKeyId=AK&Signature=abc%3D"


@settings(max_examples=200, deadline=None)
@given(seconds=st.integers(0, 10**12))
def test_a_plain_number_is_read_as_unix_seconds(seconds: int) -> None:
    # Given a signed URL whose Expires is a number
    # When its expiry is read
    # Then it is that number
    assert expires_at(f"{BASE}&Expires={seconds}") == seconds


@settings(max_examples=300, deadline=None)
@given(value=st.text(min_size=0, max_size=12))
def test_any_other_text_is_no_expiry_and_never_an_exception(value: str) -> None:
    # Given a URL whose Expires is any text at all (percent-encoded as a URL carries it)
    url = f"{BASE}&Expires={quote(value, safe='')}"
    # When its expiry is read
    result = expires_at(url)
    # Then it is a number only for ASCII digits, else None
    stripped = value.strip()
    if stripped.isascii() and stripped.isdigit():
        assert result == int(stripped)
    else:
        assert result is None


def test_no_expires_and_no_url_are_no_expiry() -> None:
    # Given a URL without Expires, one httpx refuses, and a value that is not a string
    # When their expiry is read
    # Then there is none, and nothing raised
    assert expires_at(BASE) is None
    assert expires_at("https://a/\x00?Expires=1") is None
    assert expires_at(None) is None  # type: ignore[arg-type]


def test_a_billed_answer_with_a_strange_expires_still_gives_its_receipt(
    make_client: Callable[..., AidgeClient],
) -> None:
    # Given Aidge billing a call whose result URL's Expires is a superscript two (a Unicode "digit")
    url = f"{BASE}&Expires=%C2%B2"
    servers = FakeServers(api_answers=[json_response(success_envelope(image_url=url))])
    client = make_client(servers)
    # When the call is made
    receipt = client.submit(ImageUrl("https://in/x.jpg"), CutoutOptions())
    # Then the paid call's receipt is kept, with no expiry known
    assert receipt.result_url == url
    assert receipt.expires_at is None
