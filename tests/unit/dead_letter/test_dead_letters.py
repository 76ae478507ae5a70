"""The "record the failure" step alone: the record says why and what it cost, never a signed URL."""

from __future__ import annotations

import pytest

from cutout.dead_letter.checkpoint import record_id
from cutout.dead_letter.record import DeadLetters
from cutout.engine.errors import RetryableEngineError
from cutout.engine.port import Background, CutoutReceipt
from cutout.events import FailureRecord, UploadedObject
from cutout.redelivery.delivery import Delivery
from cutout.validation import ImageRejected
from cutout.validation.rejection import RejectionCode
from tests.fakes import InMemoryDeadLetterCheckpoint, RecordingDeadLetterQueue, RecordingMetrics

UPLOAD = UploadedObject(bucket="in", key="shoes/red.jpg", version_id="v1", etag="e1", size=10)
RECEIPT = CutoutReceipt(
    engine="fake",
    result_url="https://results.example.test/1.png?Signature=secret",
    width=400,
    height=300,
    score=0.9,
    usage=1,
    request_id="req-1",
    background=Background.TRANSPARENT,
    expires_at=1_900_000_000,
)


def step() -> tuple[DeadLetters, RecordingDeadLetterQueue, RecordingMetrics]:
    queue, metrics = RecordingDeadLetterQueue(), RecordingMetrics()
    return DeadLetters(queue, metrics, lambda: "fake"), queue, metrics


def test_a_rejected_input_is_recorded_unpaid_and_counted_as_rejected_before_the_call() -> None:
    # Given the step, When a rejected input is recorded on its first receive
    dead_letters, queue, metrics = step()
    failure = ImageRejected(RejectionCode.CORRUPT_IMAGE, "The file is not an image.")
    dead_letters.record(UPLOAD, failure, Delivery(1, 3))
    # Then one record says why, with nothing paid, and the metric says it was refused before paying
    (body,) = queue.records
    record = FailureRecord.from_json(body)
    assert (record.error.code, record.paid, record.receipt, record.attempts) == (
        "corrupt_image",
        False,
        None,
        1,
    )
    assert record.engine == "fake"
    assert metrics.events == [("rejected", "corrupt_image")]


def test_a_failure_after_paying_names_the_receipt_but_never_its_signed_url() -> None:
    # Given a failure after the paid call (its receipt known)
    dead_letters, queue, metrics = step()
    failure = RetryableEngineError("download failed", code="result_unavailable")
    # When it is recorded on the last receive
    dead_letters.record(UPLOAD, failure, Delivery(3, 3), RECEIPT)
    # Then the record says it was paid, with the receipt's facts, and no URL or secret anywhere in it
    (body,) = queue.records
    record = FailureRecord.from_json(body)
    assert record.paid is True
    assert record.receipt is not None
    assert (record.receipt.request_id, record.receipt.expires_at) == ("req-1", 1_900_000_000)
    assert "results.example.test" not in body
    assert "Signature" not in body
    assert metrics.events == [("failed", "result_unavailable")]


def test_an_engine_that_cannot_be_built_is_named_unknown_by_the_conductor_s_callable() -> None:
    # Given an engine name that is not known
    queue, metrics = RecordingDeadLetterQueue(), RecordingMetrics()
    dead_letters = DeadLetters(queue, metrics, lambda: "unknown")
    # When a failure is recorded
    dead_letters.record(UPLOAD, RetryableEngineError("down", code="aidge_500"), Delivery(3, 3))
    # Then the record names it as given
    assert FailureRecord.from_json(queue.records[0]).engine == "unknown"


SUBJECT = UPLOAD.identity
TRANSIENT = RetryableEngineError("down", code="aidge_500")
FAILED = {"status": "failed", "identity": UPLOAD.identity, "error_code": "aidge_500"}


def test_with_a_checkpoint_a_failure_is_kept_sent_once_and_marked_sent() -> None:
    # Given the step with a checkpoint
    queue, metrics, letters = RecordingDeadLetterQueue(), RecordingMetrics(), InMemoryDeadLetterCheckpoint()
    dead_letters = DeadLetters(queue, metrics, lambda: "fake", letters)
    # When a failure is recorded twice for one subject (a second decision of the same upload)
    first = dead_letters.record(
        UPLOAD,
        RetryableEngineError("down", code="aidge_500"),
        Delivery(3, 3),
        subject=SUBJECT,
        outcome=FAILED,
    )
    second = dead_letters.record(
        UPLOAD,
        RetryableEngineError("other", code="aidge_501"),
        Delivery(3, 3),
        subject=SUBJECT,
        outcome={**FAILED, "error_code": "aidge_501"},
    )
    # Then one record went out, with the subject's stable id, and the first outcome stands
    assert len(queue.records) == 1
    assert FailureRecord.from_json(queue.records[0]).record_id == record_id(SUBJECT)
    assert first == second == FAILED
    assert letters.letters[SUBJECT].sent is True


def test_a_kept_letter_not_marked_sent_is_sent_again_with_the_same_body() -> None:
    # Given a failure kept and sent, whose "sent" mark failed
    queue, letters = RecordingDeadLetterQueue(), InMemoryDeadLetterCheckpoint(fail_mark_sent=1)
    dead_letters = DeadLetters(queue, RecordingMetrics(), lambda: "fake", letters)
    with pytest.raises(RuntimeError):
        dead_letters.record(
            UPLOAD,
            RetryableEngineError("down", code="aidge_500"),
            Delivery(3, 3),
            subject=SUBJECT,
            outcome=FAILED,
        )
    # When a later decision of the same upload asks whether it is recorded
    stands = dead_letters.recorded(SUBJECT)
    # Then the kept outcome stands, and the very same record is sent again (a transport duplicate)
    assert stands == FAILED
    assert len(queue.records) == 2
    assert queue.records[0] == queue.records[1]
    assert letters.letters[SUBJECT].sent is True


def test_nothing_is_recorded_for_a_subject_without_a_letter() -> None:
    # Given the step with an empty checkpoint, and one without a checkpoint
    queue = RecordingDeadLetterQueue()
    with_checkpoint = DeadLetters(queue, RecordingMetrics(), lambda: "fake", InMemoryDeadLetterCheckpoint())
    without = DeadLetters(queue, RecordingMetrics(), lambda: "fake")
    # When each is asked for a subject's recorded failure
    # Then there is none, and nothing is sent
    assert with_checkpoint.recorded(SUBJECT) is None
    assert without.recorded(SUBJECT) is None
    assert queue.records == []
