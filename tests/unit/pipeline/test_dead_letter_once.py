"""Rule 1 when a failure is recorded: one DLQ record per upload, whatever fails after the send.

The record goes out inside the outcome's decision, and Powertools stores the outcome only after the
decision returns. These tests lose what comes after the send (the outcome's write, the checkpoint's
"sent" mark) and deliver the message again, as SQS would.
"""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from cutout.dead_letter.checkpoint import record_id
from cutout.engine.errors import PermanentEngineError, RetryableEngineError
from cutout.pipeline.outcome import Status
from tests.fakes import FakeEngine, InMemoryDeadLetterCheckpoint, InMemoryPersistenceLayer
from tests.unit.pipeline.harness import build_harness


class OutcomeWriteFailsOnce(InMemoryPersistenceLayer):
    """The outcome's COMPLETED write fails once (DynamoDB down, or no time left), and the in-progress
    lock it leaves behind has expired by the time the message comes back."""

    failures_left = 1

    def _update_record(self, data_record: DataRecord) -> None:
        if OutcomeWriteFailsOnce.failures_left > 0 and data_record.status == "COMPLETED":
            OutcomeWriteFailsOnce.failures_left -= 1
            self.table.pop(data_record.idempotency_key, None)  # the lock's expiry, played at once
            raise RuntimeError("the outcome could not be stored")
        super()._update_record(data_record)


@pytest.fixture(autouse=True)
def _one_failure() -> None:
    OutcomeWriteFailsOnce.failures_left = 1


def test_a_failure_whose_outcome_was_lost_is_not_decided_again_when_the_fault_has_gone() -> None:
    # Given an upload failing transiently on its last receive (so it is recorded), whose outcome
    # write then fails, and an API that answers again by the time the message comes back
    engine = FakeEngine(fail_with=RetryableEngineError("system error", code="aidge_500"), fail_times=1)
    letters = InMemoryDeadLetterCheckpoint()
    harness = build_harness(engine, dead_letters=letters, persistence=OutcomeWriteFailsOnce)
    upload = harness.upload("shoes/red.jpg")
    with pytest.raises(Exception, match="Failed to update record state to success"):
        harness.process(upload, receive_count=3)
    assert len(harness.dlq_records()) == 1

    # When the message is delivered again
    outcome = harness.process(upload, receive_count=3)

    # Then the recorded failure stands: no second record, no outputs, no second call
    assert outcome.status is Status.FAILED
    assert outcome.error_code == "aidge_500"
    assert len(harness.dlq_records()) == 1
    assert harness.outputs() == []
    assert len(engine.submits) == 1


def test_a_permanent_failure_whose_outcome_was_lost_gets_no_second_record() -> None:
    # Given a permanent refusal recorded on the DLQ, whose outcome write then fails
    engine = FakeEngine(fail_with=PermanentEngineError("invalid input", code="aidge_700", api_code=700))
    harness = build_harness(
        engine, dead_letters=InMemoryDeadLetterCheckpoint(), persistence=OutcomeWriteFailsOnce
    )
    upload = harness.upload("shoes/red.jpg")
    with pytest.raises(Exception, match="Failed to update record state to success"):
        harness.process(upload)

    # When the message comes back, twice
    first, second = harness.process(upload), harness.process(upload)

    # Then one record, the same outcome each time, and the API was asked once
    assert [record["error"]["code"] for record in harness.dlq_records()] == ["aidge_700"]
    assert first == second
    assert first.status is Status.FAILED
    assert len(engine.submits) == 1


def test_without_the_checkpoint_the_same_loss_records_the_failure_twice() -> None:
    # Given the same loss with no checkpoint (what the pipeline did before it had one)
    engine = FakeEngine(fail_with=PermanentEngineError("invalid input", code="aidge_700", api_code=700))
    harness = build_harness(engine, persistence=OutcomeWriteFailsOnce)
    upload = harness.upload("shoes/red.jpg")
    with pytest.raises(Exception, match="Failed to update record state to success"):
        harness.process(upload)

    # When the message comes back
    harness.process(upload)

    # Then two records: the failure this checkpoint exists for
    assert len(harness.dlq_records()) == 2


def test_a_record_whose_send_was_not_confirmed_is_sent_again_identical() -> None:
    # Given a refusal whose record was sent, but whose "sent" mark could not be written
    engine = FakeEngine(fail_with=PermanentEngineError("invalid input", code="aidge_700", api_code=700))
    letters = InMemoryDeadLetterCheckpoint(fail_mark_sent=1)
    harness = build_harness(engine, dead_letters=letters)
    upload = harness.upload("shoes/red.jpg")
    with pytest.raises(RuntimeError, match="checkpoint"):
        harness.process(upload)

    # When the message comes back
    outcome = harness.process(upload)

    # Then the kept record is sent again, byte for byte (a transport duplicate: one record id),
    # the API is not asked again, and the letter is now marked sent
    assert outcome.status is Status.FAILED
    first, again = harness.dlq.records
    assert first == again
    assert json.loads(first)["record_id"] == record_id(upload.identity)
    assert len(engine.submits) == 1
    assert all(letter.sent for letter in letters.letters.values())
    harness.process(upload)
    assert len(harness.dlq.records) == 2  # a stored outcome now: nothing sent a third time


def test_record_ids_are_stable_per_upload_and_differ_between_uploads_and_replays() -> None:
    # Given two uploads and a replay of the first
    engine = FakeEngine(fail_with=PermanentEngineError("invalid input", code="aidge_700", api_code=700))
    harness = build_harness(engine, dead_letters=InMemoryDeadLetterCheckpoint())
    red, blue = harness.upload("shoes/red.jpg"), harness.upload("shoes/blue.jpg")

    # When each fails
    harness.process(red)
    harness.process(blue)

    # Then each record carries its own id, derived from the upload's identity
    ids = [record["record_id"] for record in harness.dlq_records()]
    assert ids == [record_id(red.identity), record_id(blue.identity)]
    assert record_id(red.identity) != record_id(f"{red.identity}#replay:x")
