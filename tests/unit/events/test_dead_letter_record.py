"""Building a DLQ record: what it cost, when it was first received, and a kept body at its cap."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.dead_letter.record import MAX_ORIGINAL_BODY_CHARS, failure_record, unrecognised_message_record
from cutout.engine.aidge.errors import EngineAnswerLostError, ResultExpiredError
from cutout.events import FailureRecord, PaidReceipt, UnrecognisedMessage, UploadedObject
from cutout.redelivery.delivery import Delivery
from cutout.validation import ImageRejected, RejectionCode

UPLOAD = UploadedObject("in", "shoes/red.jpg", version_id="v1", etag="e1", sequencer="0A")
RECEIPT = PaidReceipt(object_identity="id-1", request_id="req-1", expires_at=2719383457)


def _record(body: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(body)
    return parsed


@pytest.mark.parametrize(
    ("failure", "paid", "receipt"),
    [
        (ImageRejected(RejectionCode.TRUNCATED_IMAGE, "cut off"), False, None),
        (EngineAnswerLostError("answer lost"), None, None),
        (ResultExpiredError("expired"), True, RECEIPT),
    ],
    ids=["not paid", "possibly paid", "paid with its receipt"],
)
def test_the_record_says_what_the_failure_cost(
    failure: Exception, paid: bool | None, receipt: PaidReceipt | None
) -> None:
    # Given a failure that cost nothing, may have cost a call, or cost one whose receipt is kept
    # When its DLQ record is built
    body = failure_record(
        UPLOAD, failure, Delivery(receive_count=3, max_receive_count=3), "aidge", paid=paid, receipt=receipt
    )  # type: ignore[arg-type]
    record = FailureRecord.from_json(body)
    # Then the record says so, with the attempts, the engine and the error's code and sentence
    assert record.paid is paid
    assert record.receipt == receipt
    assert record.attempts == 3
    assert record.engine == "aidge"
    assert record.error.code == failure.code  # type: ignore[attr-defined]
    assert record.source is not None
    assert (record.source.bucket, record.source.key, record.source.version_id) == (
        "in",
        "shoes/red.jpg",
        "v1",
    )


def test_a_record_is_not_paid_unless_told() -> None:
    # Given a failure recorded without saying what it cost
    # When its record is built
    record = _record(
        failure_record(UPLOAD, ImageRejected(RejectionCode.EMPTY_OBJECT, "empty"), Delivery(), "aidge")
    )
    # Then it is not paid, has no receipt, and is the first attempt
    assert (record["paid"], record["receipt"], record["attempts"]) == (False, None, 1)


@settings(max_examples=100, deadline=None)
@given(milliseconds=st.integers(0, 4_102_444_800_000))
def test_first_received_at_is_the_sqs_epoch_milliseconds_in_utc(milliseconds: int) -> None:
    # Given SQS's ApproximateFirstReceiveTimestamp (epoch milliseconds, as a string)
    delivery = Delivery(first_received_at=str(milliseconds))
    # When a record is built
    record = _record(failure_record(UPLOAD, EngineAnswerLostError("lost"), delivery, "aidge"))
    # Then it is that moment, in UTC, to the millisecond
    expected = datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    assert record["first_received_at"] == expected.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5"])
def test_a_missing_or_odd_first_received_at_is_left_out(value: str | None) -> None:
    # Given no timestamp, or one that is not epoch milliseconds
    # When a record is built
    record = _record(
        failure_record(UPLOAD, EngineAnswerLostError("lost"), Delivery(first_received_at=value), "aidge")
    )
    # Then the record has none, and was still built
    assert record["first_received_at"] is None


def test_failed_at_is_now_in_utc() -> None:
    # Given the time around building a record
    before = datetime.now(UTC)
    record = _record(failure_record(UPLOAD, EngineAnswerLostError("lost"), Delivery(), "aidge"))
    after = datetime.now(UTC)
    # When its failed_at is read
    failed_at = datetime.fromisoformat(str(record["failed_at"]).replace("Z", "+00:00"))
    # Then it is between the two, to the millisecond
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= failed_at <= after


@pytest.mark.parametrize("extra", [-1, 0, 1, 1000])
def test_an_unrecognised_message_keeps_its_body_up_to_the_cap(extra: int) -> None:
    # Given an unrecognised message one character under, at, or over the cap
    body = "x" * (MAX_ORIGINAL_BODY_CHARS + extra)
    error = UnrecognisedMessage("unknown shape")
    # When its record is built
    record = _record(unrecognised_message_record(body, error, Delivery(receive_count=2)))
    # Then the body is kept whole up to 4096 characters and cut to 4096 beyond, naming no object
    assert record["original_body"] == body[:MAX_ORIGINAL_BODY_CHARS]
    assert len(str(record["original_body"])) == min(len(body), 4096)
    assert record["source"] is None
    assert record["attempts"] == 2
    assert record["error"]["code"] == "unrecognised_message"  # type: ignore[index]


def test_what_the_failure_cost_is_said_by_name_only() -> None:
    # Given a failure and what it cost
    failure = ResultExpiredError("expired")
    # When the cost is passed by position
    # Then the builder refuses it: "paid" and "receipt" can never be swapped or taken for the engine
    with pytest.raises(TypeError):
        failure_record(UPLOAD, failure, Delivery(), "aidge", True)  # type: ignore[misc]
    assert (
        FailureRecord.from_json(failure_record(UPLOAD, failure, Delivery(), "aidge", paid=True)).paid is True
    )
