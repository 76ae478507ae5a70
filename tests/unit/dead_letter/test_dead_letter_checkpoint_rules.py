"""The dead-letter checkpoint on DynamoDB, each rule from both sides (rule 1: one outcome per upload).

The first letter kept for a subject wins; a letter past its expiry (not yet swept by DynamoDB's
TTL) counts as gone, one at its expiry second still stands; a letter is kept with the table's TTL;
any DynamoDB error other than the lost condition is raised, never taken for "already kept"; a kept
letter is sent at most once. DynamoDB runs on moto in this process (``mock_aws``: no server);
time is fixed by the test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.dead_letter import checkpoint as checkpoint_module
from cutout.dead_letter.checkpoint import (
    DEAD_LETTER_KEY_PREFIX,
    DynamoDBDeadLetterCheckpoint,
    Letter,
    record_id,
    send_once,
)
from tests.moto_dynamodb import in_process_dynamodb, stubbed_dynamodb
from tests.moto_dynamodb import new_table as new_dynamodb_table

NOW = 1_800_000_000
SUBJECT = "in/shoe.jpg#v:1"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(checkpoint_module.time, "time", lambda: float(NOW))
    with in_process_dynamodb(monkeypatch) as client:
        yield client


def new_table(client: Any) -> str:
    return new_dynamodb_table(client, "dead-letters")


def stored(client: Any, table: str, subject: str = SUBJECT) -> dict[str, Any]:
    key = {"id": {"S": f"{DEAD_LETTER_KEY_PREFIX}#{subject}"}}
    item: dict[str, Any] = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item", {})
    return item


class RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, body: str) -> None:
        self.sent.append(body)


def letter(number: int, *, sent: bool = False) -> Letter:
    return Letter(f'{{"record": {number}}}', {"status": "failed", "n": number}, sent=sent)


def test_a_letter_is_kept_with_the_table_s_ttl_and_read_back_whole(dynamodb: Any) -> None:
    # Given the checkpoint on a table, with a TTL of one hour
    table = new_table(dynamodb)
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, table, ttl_seconds=3600)
    # When a letter is kept, and read back
    kept = checkpoint.keep(SUBJECT, letter(1))
    # Then the same letter stands, not yet sent, expiring one hour from now
    assert kept == letter(1)
    assert checkpoint.recorded(SUBJECT) == letter(1)
    item = stored(dynamodb, table)
    assert item["expiration"]["N"] == str(NOW + 3600)
    assert item["sent"] == {"BOOL": False}
    assert item["outcome"]["S"] == '{"status":"failed","n":1}'


def test_the_first_letter_kept_wins_over_every_later_one(dynamodb: Any) -> None:
    # Given a subject whose letter was kept and marked sent
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, new_table(dynamodb), ttl_seconds=3600)
    checkpoint.keep(SUBJECT, letter(1))
    checkpoint.mark_sent(SUBJECT)
    # When later decisions keep letters of their own (sent or not)
    second = checkpoint.keep(SUBJECT, letter(2))
    third = checkpoint.keep(SUBJECT, letter(3, sent=True))
    # Then each gets the first one back, as sent; another subject keeps its own
    assert second == third == letter(1, sent=True)
    assert checkpoint.keep("in/other.jpg#v:1", letter(4)) == letter(4)


@pytest.mark.parametrize(("seconds_from_now", "stands"), [(-1, False), (0, True), (1, True), (-3600, False)])
def test_a_letter_past_its_expiry_is_gone_and_one_at_its_expiry_second_stands(
    dynamodb: Any, seconds_from_now: int, stands: bool
) -> None:
    # Given a letter whose expiry (kept with a TTL) is just before, at or after now
    table = new_table(dynamodb)
    DynamoDBDeadLetterCheckpoint(dynamodb, table, ttl_seconds=seconds_from_now + 10**6).keep(
        SUBJECT, letter(1)
    )
    dynamodb.update_item(
        TableName=table,
        Key={"id": {"S": f"{DEAD_LETTER_KEY_PREFIX}#{SUBJECT}"}},
        UpdateExpression="SET expiration = :at",
        ExpressionAttributeValues={":at": {"N": str(NOW + seconds_from_now)}},
    )
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, table, ttl_seconds=3600)
    # When it is read, and a new decision keeps a letter of its own
    recorded = checkpoint.recorded(SUBJECT)
    kept = checkpoint.keep(SUBJECT, letter(2))
    # Then an expired one is as if gone (DynamoDB's sweep has not run yet): the new letter stands
    assert (recorded == letter(1)) is stands
    assert (recorded is None) is not stands
    assert kept == (letter(1) if stands else letter(2))


def test_a_letter_without_an_expiry_or_a_sent_flag_still_stands(dynamodb: Any) -> None:
    # Given an item written without a TTL attribute and without a sent flag (older items)
    table = new_table(dynamodb)
    dynamodb.put_item(
        TableName=table,
        Item={
            "id": {"S": f"{DEAD_LETTER_KEY_PREFIX}#{SUBJECT}"},
            "record": {"S": '{"record": 1}'},
            "outcome": {"S": '{"status": "failed", "n": 1}'},
        },
    )
    # When it is read, Then it stands, not sent
    assert DynamoDBDeadLetterCheckpoint(dynamodb, table, ttl_seconds=60).recorded(SUBJECT) == letter(1)


def test_a_dynamodb_error_is_raised_never_taken_for_a_letter_already_kept(dynamodb: Any) -> None:
    # Given a checkpoint on a table that does not exist
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, "no-such-table", ttl_seconds=60)
    # When a letter is kept, Then DynamoDB's error comes through
    with pytest.raises(ClientError) as raised:
        checkpoint.keep(SUBJECT, letter(1))
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_marking_sent_sets_only_the_flag(dynamodb: Any) -> None:
    # Given a kept letter
    table = new_table(dynamodb)
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, table, ttl_seconds=60)
    checkpoint.keep(SUBJECT, letter(1))
    # When it is marked sent, Then it reads back sent, with the same record and outcome
    checkpoint.mark_sent(SUBJECT)
    assert checkpoint.recorded(SUBJECT) == letter(1, sent=True)
    assert stored(dynamodb, table)["sent"] == {"BOOL": True}


@pytest.mark.parametrize("already_sent", [False, True])
def test_a_kept_letter_goes_on_the_queue_once(dynamodb: Any, already_sent: bool) -> None:
    # Given a subject whose letter is kept, already on the queue or not
    checkpoint = DynamoDBDeadLetterCheckpoint(dynamodb, new_table(dynamodb), ttl_seconds=60)
    checkpoint.keep(SUBJECT, letter(1))
    if already_sent:
        checkpoint.mark_sent(SUBJECT)
    queue = RecordingQueue()
    # When a decision sends a letter of its own, twice
    first = send_once(queue, checkpoint, SUBJECT, letter(2))
    second = send_once(queue, checkpoint, SUBJECT, letter(3))
    # Then the kept letter is what stands; it was sent only if it had not been, and only once
    assert first == second == letter(1, sent=True)
    assert queue.sent == ([] if already_sent else ['{"record": 1}'])


def test_without_a_checkpoint_the_letter_is_simply_sent() -> None:
    # Given no checkpoint (a direct invocation), When a letter is sent, Then it goes out and stands as sent
    queue = RecordingQueue()
    assert send_once(queue, None, SUBJECT, letter(1)) == letter(1, sent=True)
    assert queue.sent == ['{"record": 1}']


@settings(max_examples=80, deadline=None)
@given(one=st.text(min_size=1, max_size=80), other=st.text(min_size=1, max_size=80))
def test_a_record_id_is_the_same_for_one_subject_and_differs_for_another(one: str, other: str) -> None:
    # Given two subjects, When their record ids are made, Then each is 32 hex digits, stable, distinct
    assert record_id(one) == record_id(one)
    assert len(record_id(one)) == 32
    assert all(c in "0123456789abcdef" for c in record_id(one))
    assert (record_id(one) == record_id(other)) is (one == other)


def test_a_letter_cannot_be_changed_in_place() -> None:
    # Given a letter, When something tries to mark it sent in place, Then it refuses (a copy is made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        letter(1).sent = True  # type: ignore[misc]


@pytest.mark.parametrize(
    "code",
    [
        "AccessDeniedException",
        "ConditionalCheckFailed",
        "ThrottlingException",
        "InternalServerError",
        "ValidationException",
    ],
)
def test_any_dynamodb_refusal_but_the_lost_condition_is_raised_as_it_is(code: str) -> None:
    # Given DynamoDB refusing the letter's write for another reason than "already kept" (a code
    # sorting before or after ConditionalCheckFailedException)
    client, stubber = stubbed_dynamodb()
    stubber.add_client_error("put_item", service_error_code=code, http_status_code=400)
    checkpoint = DynamoDBDeadLetterCheckpoint(client, "table", ttl_seconds=60)
    # When a letter is kept, Then that error comes through (never read as a letter kept before)
    with stubber, pytest.raises(ClientError) as raised:
        checkpoint.keep(SUBJECT, letter(1))
    assert raised.value.response["Error"]["Code"] == code
    stubber.assert_no_pending_responses()


def test_a_letter_is_read_with_a_strongly_consistent_read() -> None:
    # Given DynamoDB expecting exactly a consistent read of the subject's item (Stubber checks it)
    client, stubber = stubbed_dynamodb()
    stubber.add_response(
        "get_item",
        {},
        {
            "TableName": "table",
            "Key": {"id": {"S": f"{DEAD_LETTER_KEY_PREFIX}#{SUBJECT}"}},
            "ConsistentRead": True,
        },
    )
    # When the checkpoint looks for the letter, Then it asked for a consistent read: a letter kept a
    # moment ago by another decision is never missed (which would make a second outcome)
    with stubber:
        assert DynamoDBDeadLetterCheckpoint(client, "table", ttl_seconds=60).recorded(SUBJECT) is None
    stubber.assert_no_pending_responses()
