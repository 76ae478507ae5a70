"""Against moto: the attempt counter beside the outcome, and a deleted input answering 404."""

from __future__ import annotations

import time

import boto3

from cutout.redelivery.attempts import ATTEMPTS_KEY_PREFIX, DynamoDBAttemptCounter
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import REGION, World


def test_attempts_are_counted_per_subject_in_the_idempotency_table_with_a_ttl(world: World) -> None:
    # Given the attempt counter on the world's idempotency table
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = world.environment["IDEMPOTENCY_TABLE"]
    counter = DynamoDBAttemptCounter(dynamodb, table, ttl_seconds=3600)
    # When two attempts fail on one object version and one on another
    counts = [counter.count_failed_attempt("in/a.jpg#v:1"), counter.count_failed_attempt("in/a.jpg#v:1")]
    other = counter.count_failed_attempt("in/b.jpg#v:1")
    # Then each is counted on its own, under the versioned prefix, expiring with the records
    assert (counts, other) == ([1, 2], 1)
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": f"{ATTEMPTS_KEY_PREFIX}#in/a.jpg#v:1"}})[
        "Item"
    ]
    assert item["attempts"] == {"N": "2"}
    assert int(item["expiration"]["N"]) > time.time() + 3000


def test_an_object_deleted_before_it_is_processed_is_recorded_as_not_found_at_once(world: World) -> None:
    # Given an upload whose object is deleted (every version) before its notification is processed
    version_id = world.upload("gone.jpg", product_photo())
    world.s3.delete_object(Bucket=world.input_bucket, Key="gone.jpg", VersionId=version_id)
    # When the queue is drained
    world.drain()
    # Then its one outcome is object_not_found on the DLQ, not retried as an internal error
    [record] = world.dlq_records()
    assert record["error"]["code"] == "object_not_found"
    assert world.emulator.stats()["billed"] == 0


def test_the_first_rate_limit_met_is_kept_and_counts_no_attempt(world: World) -> None:
    # Given the attempt counter on the world's idempotency table
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = world.environment["IDEMPOTENCY_TABLE"]
    counter = DynamoDBAttemptCounter(dynamodb, table, ttl_seconds=3600)
    # When one subject meets a rate limit twice, a second apart
    first = counter.rate_limited_since("in/a.jpg#v:1")
    time.sleep(1.1)
    again = counter.rate_limited_since("in/a.jpg#v:1")
    # Then the first time stands, and no attempt was counted for it
    assert again == first
    assert time.time() - 60 < first <= time.time()
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": f"{ATTEMPTS_KEY_PREFIX}#in/a.jpg#v:1"}})[
        "Item"
    ]
    assert "attempts" not in item
    assert counter.count_failed_attempt("in/a.jpg#v:1") == 1
