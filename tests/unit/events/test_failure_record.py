"""The DLQ failure record: written by the pipeline, read back by the parser on a replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cutout.events import FAILURE_SCHEMA, FailureRecord, UploadedObject, uploads_from_sqs_body
from cutout.typed import ValidationError

BUCKET = "cutout-input-123456789012-us-east-1"
ERROR = {
    "code": "image_too_small",
    "message": "The image is 99×240 pixels; each side must be between 100 and 3000 pixels.",
    "retryable": False,
    "api_code": None,
    "api_message": None,
    "request_id": None,
}


def _upload() -> UploadedObject:
    return UploadedObject(
        bucket=BUCKET,
        key="summer sale/Tasse+Henkel ü.jpg",
        version_id=None,
        etag="b21b84d653bb07b05b1e6b33684dc11b",
        sequencer="0065F8A2D6A1B2C3D4",
        size=407514,
        event_time="2025-11-20T09:16:42.377Z",
    )


def test_a_record_has_the_documented_shape() -> None:
    # Given a failed upload
    failed_at = datetime(2025, 11, 20, 9, 21, 17, 902000, tzinfo=UTC)

    # When its record is written
    record = FailureRecord.for_upload(
        _upload(),
        ERROR,
        attempts=1,
        first_received_at=failed_at - timedelta(seconds=3),
        failed_at=failed_at,
        engine="aidge",
    )
    document = json.loads(record.to_json())

    # Then it is the cutout.failure/1 document, schema first, times in ISO-8601 UTC
    assert next(iter(document)) == "schema"
    assert document["schema"] == FAILURE_SCHEMA == "cutout.failure/1"
    assert document["source"] == _upload().to_dict()
    assert document["error"] == ERROR
    assert document["attempts"] == 1
    assert document["first_received_at"] == "2025-11-20T09:21:14.902Z"
    assert document["failed_at"] == "2025-11-20T09:21:17.902Z"
    assert document["engine"] == "aidge"


def test_a_record_round_trips_through_json() -> None:
    # Given a record
    record = FailureRecord.for_upload(
        _upload(), ERROR, attempts=2, failed_at=datetime(2025, 11, 20, 10, 0, tzinfo=UTC), engine="aidge"
    )

    # When it is written and read back
    again = FailureRecord.from_json(record.to_json())

    # Then nothing is lost
    assert again == record


def test_a_replayed_record_yields_the_same_object_version() -> None:
    # Given the record of a failed upload, as the DLQ holds it
    upload = _upload()
    record = FailureRecord.for_upload(
        upload, ERROR, attempts=3, failed_at="2025-11-20T09:21:17.902Z", engine="aidge"
    )

    # When its body comes back on the work queue (a redrive)
    parsed = uploads_from_sqs_body(record.to_json())

    # Then it is the same object version (same identity: never paid twice), marked as a replay
    (replayed,) = parsed.uploads
    assert replayed == upload
    assert replayed.identity == upload.identity
    assert replayed.replay_of == {**ERROR, "failed_at": "2025-11-20T09:21:17.902Z", "attempts": 3}


def test_naive_datetimes_are_refused() -> None:
    # Given a timestamp without a timezone
    naive = datetime(2025, 11, 20, 9, 0)

    # When / Then the record refuses to guess its zone
    with pytest.raises(ValueError, match="timezone-aware"):
        FailureRecord.for_upload(_upload(), ERROR, attempts=1, failed_at=naive)


def test_other_timezones_are_written_in_utc() -> None:
    # Given a time in UTC+2
    moment = datetime(2025, 11, 20, 11, 0, tzinfo=timezone(timedelta(hours=2)))

    # When a record is written with it
    record = FailureRecord.for_upload(_upload(), ERROR, attempts=1, failed_at=moment)

    # Then it is written in UTC
    assert record.failed_at == "2025-11-20T09:00:00.000Z"


def test_an_unrecognised_message_record_keeps_the_body_and_names_no_object() -> None:
    # Given a message that named no object
    body = '{"hello": "world"}'

    # When its record is written and read back
    record = FailureRecord.for_upload(
        None,
        {"code": "unrecognised_message", "message": "not an upload event", "retryable": False},
        attempts=1,
        failed_at=datetime(2025, 11, 20, tzinfo=UTC),
        original_body=body,
    )
    again = FailureRecord.from_json(record.to_json())

    # Then the body is kept for a person, and there is nothing to replay
    assert again.original_body == body
    assert again.to_upload() is None


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"schema": "cutout.failure/2"}, id="future-schema"),
        pytest.param({"error": {"message": "no code"}}, id="error-without-code"),
        pytest.param({"source": {"bucket": BUCKET}}, id="source-without-key"),
        pytest.param({"attempts": 0}, id="zero-attempts"),
    ],
)
def test_a_malformed_record_is_refused(change: dict[str, Any]) -> None:
    # Given a valid record document with one thing broken
    document = json.loads(
        FailureRecord.for_upload(_upload(), ERROR, attempts=1, failed_at="2025-11-20T09:21:17.902Z").to_json()
    )
    document.update(change)

    # When / Then it does not parse
    with pytest.raises(ValidationError):
        FailureRecord.from_json(json.dumps(document))


def test_unknown_fields_are_ignored_so_the_schema_can_grow() -> None:
    # Given a record written by a newer version with an extra field
    document = json.loads(
        FailureRecord.for_upload(_upload(), ERROR, attempts=1, failed_at="2025-11-20T09:21:17.902Z").to_json()
    )
    document["trace_id"] = "1-5f84c7a1-abcdef"

    # When it is read
    record = FailureRecord.from_json(json.dumps(document))

    # Then it still names the object
    assert record.to_upload() == _upload()
