"""The DLQ record's field rules from both sides, and what a replay of it carries (rules 1 and 4).

Attempts start at 1 (0 refused), a size at 0 (-1 refused), a bucket and key and error code are
never empty (one character is enough); every time is written in UTC with milliseconds and a ``Z``
whatever its offset, a time given as text is kept as given, and a naive one is refused; a replay
carries the record's error, time and attempts, and ``repay`` only when the record says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.events import FailureRecord, UploadedObject
from cutout.events.failure_record import FailureError, FailureSource, PaidReceipt, iso_utc
from cutout.typed import ValidationError

ERROR = {"code": "image_too_small", "message": "too small", "retryable": False}
FAILED_AT = "2026-12-01T12:00:00.000Z"


def upload(**fields: Any) -> UploadedObject:
    return UploadedObject(**{"bucket": "in", "key": "a.jpg", "version_id": "v1", **fields})


def document(**changes: Any) -> str:
    record = json.loads(FailureRecord.for_upload(upload(), ERROR, attempts=1, failed_at=FAILED_AT).to_json())
    for path, value in changes.items():
        target = record
        *parents, name = path.split("__")
        for parent in parents:
            target = target[parent]
        target[name] = value
    return json.dumps(record)


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"attempts": 0}, False),
        ({"attempts": 1}, True),
        ({"attempts": -1}, False),
        ({"source__size": -1}, False),
        ({"source__size": 0}, True),
        ({"source__bucket": ""}, False),
        ({"source__bucket": "b"}, True),
        ({"source__key": ""}, False),
        ({"source__key": "k"}, True),
        ({"error__code": ""}, False),
        ({"error__code": "x"}, True),
        ({"schema": "cutout.failure/2"}, False),
        ({"schema": "cutout.failure/1"}, True),
    ],
)
def test_each_field_rule_from_both_sides(change: dict[str, Any], valid: bool) -> None:
    # Given a record document with one field at or just past its rule
    body = document(**change)
    # When it is read, Then it parses exactly when the field keeps its rule
    if valid:
        assert FailureRecord.from_json(body).attempts >= 1
    else:
        with pytest.raises(ValidationError):
            FailureRecord.from_json(body)


@settings(max_examples=80, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    minutes=st.integers(-14 * 60, 14 * 60),
)
def test_every_time_is_written_in_utc_with_milliseconds_and_a_z(moment: datetime, minutes: int) -> None:
    # Given an instant with any UTC offset
    local = moment.astimezone(timezone(timedelta(minutes=minutes)))
    # When a record is built with it as the failure and first-receive times
    record = FailureRecord.for_upload(upload(), ERROR, attempts=2, failed_at=local, first_received_at=local)
    # Then both are the same instant, in UTC, to the millisecond, ending in Z
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert record.failed_at == record.first_received_at == expected == iso_utc(local)


def test_times_given_as_text_are_kept_and_a_missing_one_stays_missing() -> None:
    # Given times already written by AWS (text), and no first-receive time
    record = FailureRecord.for_upload(upload(), ERROR, attempts=1, failed_at="when it failed")
    # When the record is built, Then the text is kept as given, and nothing is invented
    assert (record.failed_at, record.first_received_at) == ("when it failed", None)
    assert (
        FailureRecord.for_upload(
            upload(), ERROR, attempts=1, failed_at=FAILED_AT, first_received_at="then"
        ).first_received_at
        == "then"
    )


@pytest.mark.parametrize("field", ["failed_at", "first_received_at"])
def test_a_time_without_a_zone_is_refused(field: str) -> None:
    # Given a naive time for either field, When a record is built, Then it refuses to guess the zone
    times: dict[str, Any] = {"failed_at": FAILED_AT, field: datetime(2026, 12, 1, 12, 0)}
    with pytest.raises(ValueError, match="timezone-aware"):
        FailureRecord.for_upload(upload(), ERROR, attempts=1, **times)


@pytest.mark.parametrize(("repay", "carries"), [(True, True), (False, False)])
def test_a_replay_carries_the_error_its_time_and_attempts_and_repay_only_when_asked(
    repay: bool, carries: bool
) -> None:
    # Given a record of a third attempt, made for --repay or not
    record = FailureRecord.from_json(document(attempts=3, repay=repay))
    # When it is turned into the upload to process again
    again = record.to_upload()
    # Then it is the same object, marked with the error, the time and the attempts; repay only if asked
    assert again is not None
    assert again.identity == upload().identity
    assert again.replay_of is not None
    assert again.replay_of["code"] == "image_too_small"
    assert (again.replay_of["failed_at"], again.replay_of["attempts"]) == (FAILED_AT, 3)
    assert ("repay" in again.replay_of) is carries
    if carries:
        assert again.replay_of["repay"] is True


def test_a_record_without_a_source_replays_nothing() -> None:
    # Given a record of a message that named no object, When it is replayed, Then there is nothing to process
    record = FailureRecord.for_upload(
        None, {**ERROR, "code": "unrecognised_message"}, attempts=1, failed_at=FAILED_AT
    )
    assert record.to_upload() is None
    assert json.loads(record.to_json())["source"] is None


def test_a_minimal_record_reads_as_one_unbilled_attempt() -> None:
    # Given a record document with only what is required (as an older writer or a person may write it)
    body = json.dumps(
        {
            "schema": "cutout.failure/1",
            "source": {"bucket": "in", "key": "a.jpg"},
            "error": ERROR,
            "failed_at": FAILED_AT,
        }
    )
    # When it is read, Then it is one attempt, not billed, no receipt, no repay: nothing is assumed paid
    record = FailureRecord.from_json(body)
    assert (record.attempts, record.paid, record.receipt, record.repay, record.record_id) == (
        1,
        False,
        None,
        False,
        None,
    )


def test_a_record_built_without_saying_what_it_cost_is_not_billed() -> None:
    # Given a failure recorded without a cost (a rejected input), When built, Then it says unbilled
    assert FailureRecord.for_upload(upload(), ERROR, attempts=1, failed_at=FAILED_AT).paid is False


def test_a_record_is_built_by_name_only() -> None:
    # Given an upload and an error, When a record is built with its options by position,
    # Then it refuses (an attempt count taken for a time, a cost for a body, must not pass)
    with pytest.raises(TypeError):
        FailureRecord.for_upload(upload(), ERROR, 1, FAILED_AT)  # type: ignore[misc]


def a_record() -> FailureRecord:
    return FailureRecord.for_upload(
        upload(),
        ERROR,
        attempts=1,
        failed_at=FAILED_AT,
        paid=True,
        receipt=PaidReceipt(object_identity="in/a.jpg#v:v1", request_id="r1"),
    )


@pytest.mark.parametrize(
    ("part", "field", "value"),
    [
        ("record", "paid", False),
        ("source", "key", "b.jpg"),
        ("error", "code", "other"),
        ("receipt", "request_id", "r2"),
    ],
)
def test_a_record_and_its_parts_cannot_be_changed_in_place(part: str, field: str, value: object) -> None:
    # Given a record of a paid failure, with its source, error and receipt
    record = a_record()
    target = record if part == "record" else getattr(record, part)
    # When something tries to change one of their fields, Then it refuses: a DLQ record says what happened
    with pytest.raises(AttributeError):
        setattr(target, field, value)


@pytest.mark.parametrize(
    "build",
    [
        lambda: FailureSource("in", "a.jpg"),
        lambda: FailureError("image_too_small", "too small", False),
        lambda: PaidReceipt("in/a.jpg#v:v1"),
    ],
    ids=["source", "error", "receipt"],
)
def test_each_part_of_a_record_is_built_by_name_only(build: Callable[[], object]) -> None:
    # Given a part of a DLQ record, When it is built by position, Then it refuses
    with pytest.raises(TypeError):
        build()
