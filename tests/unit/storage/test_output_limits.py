"""The output's key and metadata limits from both sides: S3's 1024-byte key and 2 KiB of metadata.

S3 counts user metadata as the UTF-8 bytes of every name and value; every value must be printable
ASCII (they travel as HTTP headers). The source key is the only value that can be long or hold any
character, so it is percent-encoded and cut (between characters) to keep the total under 2 KiB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cutout.engine.port import Cutout, CutoutOptions
from cutout.events import UploadedObject
from cutout.storage import ObjectHead
from cutout.storage.output import (
    MAX_KEY_BYTES,
    METADATA_LIMIT_BYTES,
    OutputKeyTooLong,
    output_key_for,
    output_metadata,
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=700)


def _metadata(key: str) -> dict[str, str]:
    upload = UploadedObject(
        "input-bucket", key, version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", etag="e" * 32
    )
    head = ObjectHead(
        size=10, etag="e" * 32, version_id=upload.version_id, content_type="image/jpeg", metadata={}
    )
    cutout = Cutout.from_bytes(
        b"png",
        content_type="image/png",
        width=3000,
        height=3000,
        score=0.93,
        usage=1,
        request_id="2101364217193834573077250e647d",
        engine="aidge",
        reported_size=(2999, 3001),
    )
    return output_metadata(upload, head, cutout, CutoutOptions(), datetime(2026, 12, 7, tzinfo=UTC))


@pytest.mark.parametrize(("stem_bytes", "fits"), [(1020, True), (1021, False)])
def test_the_output_key_limit_from_both_sides(stem_bytes: int, fits: bool) -> None:
    # Given a source key whose output key (".png" appended, 0.3.0) is 1024 bytes, or 1025
    key = "a" * (stem_bytes - 4) + ".jpg"
    # When its output key is made
    # Then 1024 bytes is accepted and one byte more is refused with its own reason
    if fits:
        assert len(output_key_for(key, ".png").encode()) == 1024 == MAX_KEY_BYTES
    else:
        with pytest.raises(OutputKeyTooLong):
            output_key_for(key, ".png")


def test_the_key_limit_counts_bytes_not_characters() -> None:
    # Given a 1024-character output key of two-byte characters (2048 bytes)
    key = "é" * (MAX_KEY_BYTES - 4) + ".jpg"
    # When its output key is made
    # Then it is refused
    with pytest.raises(OutputKeyTooLong):
        output_key_for(key, ".png")


@PROPERTY
@given(key=KEYS, extension=st.sampled_from([".png", ".jpg", ".webp"]))
@example(key="a//b.jpg", extension=".png")
@example(key="shoes/.jpg", extension=".png")
@example(key="x.tar.gz", extension=".png")
def test_an_output_key_is_the_whole_source_key_with_the_extension_appended(key: str, extension: str) -> None:
    # Given any source key
    # When its output key is made
    try:
        output = output_key_for(key, extension)
    except OutputKeyTooLong:
        output = None
    # Then it is refused only when over 1024 bytes; otherwise it is the whole key, the result's
    # extension appended (0.3.0: red.jpg and red.png never share an output)
    expected = key + extension
    if len(expected.encode()) > MAX_KEY_BYTES:
        assert output is None
    else:
        assert output == expected


@PROPERTY
@given(key=KEYS)
@example(key="a" * 899)
@example(key="a" * 900)
@example(key="a" * 901)
@example(key="é" * 150)  # 6 characters per é once encoded: 900 exactly
@example(key="é" * 151)
@example(key="a" * 899 + "é" + "b")  # the é does not fit, and nothing after it may be kept
def test_metadata_stays_under_2_kib_printable_and_the_source_key_decodes_to_its_prefix(key: str) -> None:
    # Given any source key (any character, up to 700 characters: up to 2,800 UTF-8 bytes)
    # When the output's metadata is built
    metadata = _metadata(key)
    # Then it fits S3's 2 KiB, every value is printable ASCII, and the source key decodes to a
    # prefix of the real one, flagged as truncated exactly when it is cut
    assert sum(len(n.encode()) + len(v.encode()) for n, v in metadata.items()) <= 2048 == METADATA_LIMIT_BYTES
    assert all(value.isascii() and value.isprintable() for value in metadata.values())
    decoded = unquote(metadata["source-key"], errors="strict")
    assert key.startswith(decoded)
    assert (decoded != key) == (metadata.get("source-key-truncated") == "true")
    assert (len(quote(key, safe="/")) > 900) == (metadata.get("source-key-truncated") == "true")
