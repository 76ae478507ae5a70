"""`cutout dlq list` and `cutout dlq replay` against moto on loopback, the emulator and the handler."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cutout_tools.emulator import FaultPlan
from cutout_tools.local_stack.lambda_runtime import sqs_event_from_messages
from cutout_tools.operations import peek_dead_letters, replay_dead_letters
from tests.functional.aidge_testkit import product_photo
from tests.functional.operations.conftest import Operator, create_stack_naming, resources_of
from tests.functional.operations.helpers import (
    drop_pending_notifications,
    queue_depth,
    redrive_to_dead_letter_queue,
    stop_notifications,
)
from tests.functional.pipeline.world import REGION, World


def test_list_shows_records_with_reasons_and_a_redriven_message_and_consumes_nothing(
    operator: Operator,
) -> None:
    # Given a too-small image and an unknown message (both recorded by the function), and an upload
    # whose notification SQS redrove to the DLQ after maxReceiveCount (the function never answered)
    world = operator.world
    world.upload("bad/tiny.jpg", product_photo(50, 50))
    world.sqs.send_message(QueueUrl=world.work_queue_url, MessageBody='{"hello": "world"}')
    world.drain()
    world.upload("crashed/red shoe+1.jpg", product_photo())
    redrive_to_dead_letter_queue(world)

    # When the DLQ is listed as JSON lines, then as a table
    listed = operator.run("dlq", "list", "--json")
    table = operator.run("dlq", "list")

    # Then every message shows with its reason, the raw one as `redriven`, and all are still there
    assert (listed.exit_code, table.exit_code) == (0, 0)
    rows = {row["reason"]: row for row in listed.json_lines()}
    assert set(rows) == {"image_too_small", "unrecognised_message", "redriven"}
    too_small = rows["image_too_small"]
    assert (too_small["key"], too_small["retryable"], too_small["attempts"]) == ("bad/tiny.jpg", False, 1)
    assert too_small["failed_at"].endswith("Z")
    assert too_small["record"]["source"]["bucket"] == world.input_bucket
    assert rows["unrecognised_message"]["replayable"] is False
    assert rows["unrecognised_message"]["key"] is None
    redriven = rows["redriven"]
    assert (
        redriven["key"],
        redriven["replayable"],
        redriven.get("record"),
    ) == (
        "crashed/red shoe+1.jpg",
        True,
        None,
    )
    assert '"Records"' in redriven["body"]
    header, *lines = table.stdout.splitlines()
    assert header.split() == ["KEY", "REASON", "RETRYABLE", "ATTEMPTS", "FAILED_AT", "MESSAGE"]
    assert any(line.startswith("bad/tiny.jpg") and "image_too_small" in line for line in lines)
    assert any(line.startswith("crashed/red shoe+1.jpg") and "redriven" in line for line in lines)
    assert "3 message(s) on the dead-letter queue" in table.stdout
    assert queue_depth(world, world.dlq_url) == 3
    assert len(peek_dead_letters(world.sqs, world.dlq_url, wait_seconds=0)) == 3


def test_list_filters_by_reason_and_stops_at_the_limit(operator: Operator) -> None:
    # Given three too-small images and one unknown message on the DLQ
    world = operator.world
    for n in range(3):
        world.upload(f"bad/{n}.jpg", product_photo(40 + n, 40))
    world.sqs.send_message(QueueUrl=world.work_queue_url, MessageBody="not json")
    world.drain()

    # When listing one reason, then with a limit
    by_reason = operator.run("dlq", "list", "--json", "--reason", "image_too_small")
    limited = operator.run("dlq", "list", "--json", "--limit", "2")

    # Then only that reason shows, and no more than the limit
    assert sorted(row["key"] for row in by_reason.json_lines()) == ["bad/0.jpg", "bad/1.jpg", "bad/2.jpg"]
    assert len(limited.json_lines()) == 2
    assert queue_depth(world, world.dlq_url) == 4


@pytest.mark.slow  # the client's backoff between the 500s it retries
def test_replay_by_reason_moves_only_those_and_a_transient_failure_is_then_processed_once(
    make_world: Callable[..., World], aws_environment: str
) -> None:
    # Given a transient API failure recorded on the last allowed receive, and a too-small image
    world = make_world(MAX_RECEIVE_COUNT="1")
    operator = Operator(world, aws_environment, "cutout-ops-transient")
    create_stack_naming(resources_of(world), operator.stack_name)
    world.emulator.configure(faults=FaultPlan.parse(["500:1.0"]))
    world.upload("shoes/blue.jpg", product_photo())
    world.upload("bad/tiny.jpg", product_photo(50, 50))
    world.drain()
    assert {row["reason"] for row in operator.run("dlq", "list", "--json").json_lines()} == {
        "aidge_500",
        "image_too_small",
    }
    assert world.emulator.stats()["billed"] == 0

    # When the API is healthy again and only the aidge_500 failures are replayed and processed
    world.emulator.configure(faults=FaultPlan())
    replay = operator.run("dlq", "replay", "--reason", "aidge_500")
    world.drain()

    # Then that one was moved and now has its cut-out, billed once; the other stays on the DLQ
    assert replay.exit_code == 0
    assert "replayed 1 of 1 matching message(s) with reason 'aidge_500'" in replay.stdout
    assert list(world.outputs()) == ["shoes/blue.jpg.png"]
    assert world.emulator.stats()["billed"] == 1
    assert [letter.reason for letter in peek_dead_letters(world.sqs, world.dlq_url, wait_seconds=0)] == [
        "image_too_small"
    ]


def test_replaying_a_record_whose_object_has_since_succeeded_pays_nothing_and_writes_nothing(
    operator: Operator,
) -> None:
    # Given an upload the API refused (a DLQ record), replayed once the API was fixed and cut out
    world = operator.world
    world.emulator.configure(faults=FaultPlan.parse(["1000:1.0"]))
    world.upload("shoes/red.jpg", product_photo())
    world.drain()
    world.emulator.configure(faults=FaultPlan())
    [letter] = peek_dead_letters(world.sqs, world.dlq_url, wait_seconds=0)
    assert operator.run("dlq", "replay", "--include-permanent").exit_code == 0
    world.drain()
    [(output_key, first)] = world.outputs().items()
    before = world.emulator.stats()
    assert before["billed"] == 1

    # When the same record reaches the work queue again (a replay run twice, a copy kept elsewhere)
    world.sqs.send_message(QueueUrl=world.work_queue_url, MessageBody=letter.body)
    world.drain()

    # Then no call was made, the output is the first one, and no new failure was recorded
    after = world.emulator.stats()
    assert (after["calls"], after["billed"]) == (before["calls"], before["billed"])
    outputs = world.outputs()
    assert list(outputs) == [output_key]
    assert outputs[output_key]["metadata"]["request-id"] == first["metadata"]["request-id"]
    assert queue_depth(world, world.dlq_url) == 0


def test_a_backfill_of_a_refused_upload_keeps_its_one_dlq_record_and_pays_nothing(operator: Operator) -> None:
    # Given an upload the API refused: one DLQ record, from its S3 event
    world = operator.world
    world.emulator.configure(faults=FaultPlan.parse(["1000:1.0"]))
    world.upload("shoes/red.jpg", product_photo())
    world.drain()
    world.emulator.configure(faults=FaultPlan())
    calls = world.emulator.stats()["calls"]

    # When its prefix is backfilled (the same object version, named by a listing) and drained
    assert operator.run("backfill", f"s3://{world.input_bucket}/shoes/").exit_code == 0
    world.drain()

    # Then it has its one outcome still: one record, no output, no call (`dlq replay` re-attempts it)
    assert [letter.reason for letter in peek_dead_letters(world.sqs, world.dlq_url, wait_seconds=0)] == [
        "aidge_1000"
    ]
    assert world.outputs() == {}
    assert world.emulator.stats()["calls"] == calls


def test_replaying_a_redriven_message_of_a_processed_upload_is_deduplicated_by_identity(
    make_world: Callable[..., World], aws_environment: str
) -> None:
    # Given an upload processed successfully whose message was never deleted (the function crashed
    # after writing), so SQS redrove it; the byte-identical shortcut is off, identity alone must hold
    world = make_world(SKIP_UNCHANGED_REUPLOADS="false")
    drop_pending_notifications(world)
    world.upload("crash/after-put.jpg", product_photo())
    messages = world.receive()
    response = world.invoke(sqs_event_from_messages(messages, world.work_queue_arn, REGION))  # no delete
    assert response == {"batchItemFailures": []}
    for message in messages:  # the crash: the visibility timeout runs out instead of a delete
        world.sqs.change_message_visibility(
            QueueUrl=world.work_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    redrive_to_dead_letter_queue(world)
    assert world.emulator.stats()["billed"] == 1

    # When the redriven message is replayed through the API and processed
    summary = replay_dead_letters(
        world.sqs, world.dlq_url, world.work_queue_url, reason="redriven", wait_seconds=0
    )
    world.drain()

    # Then it was moved, and the stored outcome answered it: no second call, one output
    assert (summary.matched, summary.replayed, summary.failed) == (1, 1, 0)
    assert world.emulator.stats()["billed"] == 1
    assert list(world.outputs()) == ["crash/after-put.jpg.png"]
    assert queue_depth(world, world.dlq_url) == 0


def test_replay_leaves_unrecognised_message_records_and_says_so(operator: Operator) -> None:
    # Given a record of a message that named no object
    world = operator.world
    world.sqs.send_message(QueueUrl=world.work_queue_url, MessageBody="[1, 2, 3]")
    world.drain()

    # When everything is replayed
    replay = operator.run("dlq", "replay")

    # Then nothing moved and the operator is told why
    assert replay.exit_code == 0
    assert "replayed 0 of 0" in replay.stdout
    assert "skipped 1 unrecognised_message record(s): they name no object" in replay.stdout
    assert queue_depth(world, world.dlq_url) == 1
    assert queue_depth(world, world.work_queue_url) == 0


@pytest.mark.parametrize("reason", [None, "image_too_small"])
def test_a_dry_run_replay_changes_nothing_and_counts_permanent_failures_apart(
    operator: Operator, reason: str | None
) -> None:
    # Given two permanent failures on the DLQ and no notifications pending
    world = operator.world
    world.upload("bad/a.jpg", product_photo(30, 30))
    world.upload("bad/b.jpg", product_photo(31, 31))
    world.drain()
    stop_notifications(world)

    # When a replay is only rehearsed
    argv = ["dlq", "replay", "--dry-run"] + (["--reason", reason] if reason else [])
    rehearsal = operator.run(*argv)

    # Then it says nothing would be replayed, and why: both are permanent; both queues are as they were
    assert rehearsal.exit_code == 0
    assert "dry run: 0 message(s)" in rehearsal.stdout
    assert "nothing changed" in rehearsal.stdout
    assert "not replayed: 2 permanent failure(s) (image_too_small 2)" in rehearsal.stdout
    assert "--include-permanent" in rehearsal.stdout
    assert queue_depth(world, world.dlq_url) == 2
    assert queue_depth(world, world.work_queue_url) == 0


def test_replay_moves_retryable_failures_and_leaves_permanent_ones_unless_asked(
    make_world: Callable[..., World], aws_environment: str
) -> None:
    # Given a redriven message (retryable) and two permanent failures (image_too_small, not_an_image)
    world = make_world(SKIP_UNCHANGED_REUPLOADS="false")
    operator = Operator(world, aws_environment, "cutout-ops-split")
    create_stack_naming(resources_of(world), operator.stack_name)
    world.upload("bad/tiny.jpg", product_photo(40, 40))
    world.upload("bad/text.jpg", b"just some text, not a photo\n" * 10)
    world.drain()
    world.upload("shoes/crashed.jpg", product_photo())
    redrive_to_dead_letter_queue(world)
    stop_notifications(world)

    # When a dry run, then a replay, then a replay with --include-permanent run
    rehearsal = operator.run("dlq", "replay", "--dry-run")
    replay = operator.run("dlq", "replay")
    left_after_replay = sorted(
        letter.reason for letter in peek_dead_letters(world.sqs, world.dlq_url, wait_seconds=0)
    )
    forced = operator.run("dlq", "replay", "--include-permanent")

    # Then the dry run splits the counts by retryable or not
    assert "dry run: 1 message(s) would be replayed" in rehearsal.stdout
    assert "retryable: redriven 1" in rehearsal.stdout
    assert "not replayed: 2 permanent failure(s) (image_too_small 1, not_an_image 1)" in rehearsal.stdout
    # And the replay moved only the retryable one, leaving both permanent failures on the DLQ
    assert "replayed 1 of 1 matching message(s)" in replay.stdout
    assert left_after_replay == ["image_too_small", "not_an_image"]
    # And --include-permanent moved those too, saying they are permanent
    assert "replayed 2 of 2 matching message(s)" in forced.stdout
    assert "permanent (--include-permanent): image_too_small 1, not_an_image 1" in forced.stdout
    assert queue_depth(world, world.dlq_url) == 0


def _a_refused_upload_recorded_twice(operator: Operator, key: str = "shoes/red.jpg") -> str:
    """An upload the API refused, its DLQ record on the queue twice (the same body: a transport
    copy, as a standard queue may deliver); returns the record's body."""
    world = operator.world
    world.emulator.configure(faults=FaultPlan.parse(["1000:1.0"]))
    world.upload(key, product_photo())
    world.drain()
    world.emulator.configure(faults=FaultPlan())
    [letter] = peek_dead_letters(world.sqs, world.dlq_url, wait_seconds=0)
    assert letter.record_id is not None
    world.sqs.send_message(QueueUrl=world.dlq_url, MessageBody=letter.body)
    assert queue_depth(world, world.dlq_url) == 2
    return letter.body


def test_list_shows_a_record_delivered_twice_once_and_says_so(operator: Operator) -> None:
    # Given one upload's DLQ record on the queue twice, and another upload's once
    world = operator.world
    _a_refused_upload_recorded_twice(operator)
    world.upload("bad/tiny.jpg", product_photo(50, 50))
    world.drain()

    # When the DLQ is listed, as a table and as JSON lines
    table = operator.run("dlq", "list")
    listed = operator.run("dlq", "list", "--json")

    # Then each record is listed once, the copy counted on its record and said in the table's last
    # line; nothing was consumed
    assert (table.exit_code, listed.exit_code) == (0, 0)
    rows = {row["key"]: row for row in listed.json_lines()}
    assert len(listed.json_lines()) == 2
    assert (rows["shoes/red.jpg"]["copies"], rows["bad/tiny.jpg"]["copies"]) == (1, 0)
    assert [line.split()[0] for line in table.stdout.splitlines()[1:-1]].count("shoes/red.jpg") == 1
    assert (
        "2 message(s) on the dead-letter queue, and 1 byte-identical copy(ies) of listed records "
        "(the same record_id) not listed again; none was consumed"
    ) in table.stdout
    assert queue_depth(world, world.dlq_url) == 3


def test_replay_sends_a_record_delivered_twice_once_and_deletes_its_copy(operator: Operator) -> None:
    # Given one upload's DLQ record on the queue twice
    world = operator.world
    _a_refused_upload_recorded_twice(operator)

    # When a dry run, then the replay itself, are run
    dry = operator.run("dlq", "replay", "--include-permanent", "--dry-run")
    replay = operator.run("dlq", "replay", "--include-permanent")

    # Then the dry run counts one record and the copy, and changes nothing; the replay sends the
    # record once and deletes the copy: the DLQ is empty, the work queue holds one message
    assert (dry.exit_code, replay.exit_code) == (0, 0)
    assert "dry run: 1 message(s) would be replayed" in dry.stdout
    assert "1 byte-identical copy(ies) of a replayed record" in dry.stdout
    assert "would be deleted from the DLQ" in dry.stdout
    assert "replayed 1 of 1 matching message(s)" in replay.stdout
    assert "were deleted from the DLQ, not replayed again" in replay.stdout
    assert queue_depth(world, world.dlq_url) == 0
    assert queue_depth(world, world.work_queue_url) == 1
    # And processed, it is cut out once
    world.drain()
    assert list(world.outputs()) == ["shoes/red.jpg.png"]
    assert world.emulator.stats()["billed"] == 1


def test_replay_keeps_the_copy_of_a_record_it_does_not_replay(operator: Operator) -> None:
    # Given one upload's permanent-failure record on the queue twice
    world = operator.world
    _a_refused_upload_recorded_twice(operator)

    # When the replay runs without --include-permanent (the record is not replayed)
    replay = operator.run("dlq", "replay")

    # Then neither the record nor its copy moved or was deleted
    assert replay.exit_code == 0
    assert "replayed 0 of 0 matching message(s)" in replay.stdout
    assert "copy" not in replay.stdout
    assert queue_depth(world, world.dlq_url) == 2
    assert queue_depth(world, world.work_queue_url) == 0
