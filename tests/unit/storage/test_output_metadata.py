"""What the output's metadata says, field by field: every branch of each field's rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cutout import __version__
from cutout.engine.port import Background, Cutout, CutoutOptions
from cutout.events import UploadedObject
from cutout.storage import ObjectHead
from cutout.storage.output import output_metadata

WHEN = datetime(2026, 12, 7, 12, 30, tzinfo=UTC)


def _cutout(score: float | None = 0.93, reported: tuple[int, int] | None = None) -> Cutout:
    return Cutout.from_bytes(
        b"png",
        content_type="image/png",
        width=800,
        height=600,
        score=score,
        usage=1,
        request_id="req-1",
        engine="aidge",
        reported_size=reported,
    )


def _head(etag: str | None = "head-etag", version_id: str | None = "head-version") -> ObjectHead:
    return ObjectHead(size=10, etag=etag, version_id=version_id, content_type="image/jpeg", metadata={})


def _metadata(
    upload: UploadedObject | None = None, head: ObjectHead | None = None, cutout: Cutout | None = None
) -> dict[str, str]:
    return output_metadata(
        upload or UploadedObject("in", "shoes/red.jpg", version_id="v1", etag="upload-etag"),
        head or _head(),
        cutout or _cutout(),
        CutoutOptions(background=Background.TRANSPARENT),
        WHEN,
    )


def test_every_field_of_an_ordinary_output() -> None:
    # Given an ordinary upload, its head and its cut-out
    # When the output's metadata is built
    metadata = _metadata()
    # Then each field says where it came from and what made it
    assert metadata == {
        "source-bucket": "in",
        "source-key": "shoes/red.jpg",
        "source-key-encoding": "rfc3986",
        "source-etag": "head-etag",
        "engine": "aidge",
        "background": Background.TRANSPARENT.value,
        "score": "0.9300",
        "width": "800",
        "height": "600",
        "request-id": "req-1",
        "usage": "1",
        "processed-at": "2026-12-07T12:30:00+00:00",
        "pipeline-version": __version__,
        "source-version-id": "v1",
    }


@pytest.mark.parametrize(
    ("score", "expected"), [(None, None), (0.0, "0.0000"), (0.123456, "0.1235"), (1.0, "1.0000")]
)
def test_the_score_has_four_decimals_or_is_absent(score: float | None, expected: str | None) -> None:
    # Given a cut-out with or without a score
    # When the metadata is built
    # Then the score has four decimals, and no score means no field (never an empty value)
    assert _metadata(cutout=_cutout(score=score)).get("score") == expected


@pytest.mark.parametrize(("reported", "expected"), [(None, None), ((799, 601), "reported 799x601")])
def test_a_size_mismatch_is_flagged_only_when_there_is_one(
    reported: tuple[int, int] | None, expected: str | None
) -> None:
    # Given a result the engine reported at another size, or not
    # When the metadata is built
    # Then the flag is there exactly when the sizes differed
    assert _metadata(cutout=_cutout(reported=reported)).get("result-size-mismatch") == expected


@pytest.mark.parametrize(
    ("upload_version", "head_version", "expected"),
    [
        ("v1", "head-version", "v1"),
        (None, "head-version", "head-version"),
        ("null", None, None),
        (None, None, None),
        (None, "null", None),
        ("A", None, "A"),
        ("zz", None, "zz"),
    ],
)
def test_the_source_version_is_the_upload_s_then_the_head_s_and_never_null(
    upload_version: str | None, head_version: str | None, expected: str | None
) -> None:
    # Given an upload and a head that name a version, "null" (an unversioned bucket) or none
    upload = UploadedObject("in", "shoes/red.jpg", version_id=upload_version, etag="e")
    # When the metadata is built
    metadata = _metadata(upload=upload, head=_head(version_id=head_version))
    # Then it records the version read, and none for an unversioned object
    assert metadata.get("source-version-id") == expected


@pytest.mark.parametrize(
    ("head_etag", "upload_etag", "expected"),
    [("h", "u", "h"), (None, "u", "u"), (None, None, None)],
)
def test_the_source_etag_is_the_head_s_then_the_upload_s_or_absent(
    head_etag: str | None, upload_etag: str | None, expected: str | None
) -> None:
    # Given a head and an upload with or without an ETag
    upload = UploadedObject("in", "shoes/red.jpg", version_id="v1", etag=upload_etag)
    # When the metadata is built
    # Then the head's ETag wins, the upload's stands in, and none means no field
    assert _metadata(upload=upload, head=_head(etag=head_etag)).get("source-etag") == expected


@pytest.mark.parametrize("character", ["\x1f", "\x7f", "\x00", "\u00e9", "\u2028"])
def test_control_and_non_ascii_characters_of_the_key_are_percent_encoded(character: str) -> None:
    # Given a source key holding a control, DEL or non-ASCII character
    upload = UploadedObject("in", f"a{character}b.jpg", version_id="v1", etag="e")
    # When the metadata is built
    metadata = _metadata(upload=upload)
    # Then every value is printable ASCII (S3 sends metadata as HTTP headers)
    assert all(value.isascii() and value.isprintable() for value in metadata.values())
    assert character not in metadata["source-key"]


@pytest.mark.parametrize("character", ["\x1f", "\x7f", "\x00", "\u00e9"])
def test_control_and_non_ascii_characters_of_any_other_value_are_percent_encoded(character: str) -> None:
    # Given values from outside (an ETag, a version id, the engine's request id) holding such a character
    upload = UploadedObject("in", "a.jpg", version_id=f"v{character}1", etag="e")
    cutout = Cutout.from_bytes(
        b"png", content_type="image/png", width=1, height=1, score=None, usage=1,
        request_id=f"req{character}1", engine="aidge",
    )  # fmt: skip
    # When the metadata is built
    metadata = _metadata(upload=upload, head=_head(etag=f"e{character}"), cutout=cutout)
    # Then every value is printable ASCII, the character percent-encoded where it was
    assert all(value.isascii() and value.isprintable() for value in metadata.values())
    assert metadata["request-id"].startswith("req%")


def test_printable_ascii_is_kept_as_it_is_from_space_to_tilde() -> None:
    # Given values holding the first and last printable ASCII characters (space and tilde)
    cutout = Cutout.from_bytes(
        b"png", content_type="image/png", width=1, height=1, score=None, usage=1,
        request_id="a b~c", engine="aidge",
    )  # fmt: skip
    # When the metadata is built
    metadata = _metadata(cutout=cutout)
    # Then they are not encoded: only what a header cannot carry is
    assert metadata["request-id"] == "a b~c"


def test_the_metadata_limit_is_s3_s_2_kib() -> None:
    # Given S3's documented limit on user metadata (2 KiB, names and values)
    from cutout.storage.output import METADATA_LIMIT_BYTES

    # When the module's limit is read
    # Then it is that limit (the deliverables' metadata is checked against it too)
    assert METADATA_LIMIT_BYTES == 2048
