"""`cutout local up --existing-bucket NAME` (and `--existing-topic`): the stack joins a shop's bucket.

The bucket is made in moto as a shop has it (unversioned), the template deployed with
ExistingInputBucketName: no input bucket is created, moto's S3 sends "Object Created" to
EventBridge and the template's rule routes it to the work queue (or, with --existing-topic, S3
publishes to SNS and the work queue's subscription gets the envelope). Then the issue's scenario:
an upload that failed validation, a backfill of the prefix, a DLQ replay: one DLQ record throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import _stop
from tests.e2e.support import STARTUP_TIMEOUT_SECONDS, cutout_command, product_photo, wait_for

pytestmark = pytest.mark.slow

BUCKET = "shop-photos"


def _start(folder: Path, *arguments: str) -> Iterator[tuple[dict[str, Any], Path]]:
    describe = folder / "describe.json"
    log_path = folder / "local-up.log"
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cutout_command("local", "up", "--port", "0", "--describe", str(describe), *arguments),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while not describe.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"`cutout local up` did not get ready:\n{log_path.read_text()[-4000:]}"
                    )
                time.sleep(0.2)
            yield json.loads(describe.read_text(encoding="utf-8")), log_path
        finally:
            returncode = _stop(process)
    assert returncode == 0, log_path.read_text()[-4000:]


@pytest.fixture(scope="module")
def existing_bucket_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    yield from _start(
        tmp_path_factory.mktemp("existing-bucket"), "--existing-bucket", BUCKET, "--key-prefix", "shop/"
    )


@pytest.fixture(scope="module")
def existing_topic_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    yield from _start(
        tmp_path_factory.mktemp("existing-topic"),
        "--existing-bucket",
        BUCKET,
        "--existing-topic",
        "shop-uploads",
    )


def _client(description: dict[str, Any], service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=description["endpoint_url"],
        region_name=description["region"],
        aws_access_key_id="anything",
        aws_secret_access_key="anything",
    )


def _dead_letters(description: dict[str, Any]) -> list[dict[str, Any]]:
    sqs = _client(description, "sqs")
    found: dict[str, dict[str, Any]] = {}
    for _ in range(3):  # receive a few times: SQS may answer with a part of the queue
        for message in sqs.receive_message(
            QueueUrl=description["dead_letter_queue_url"], MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", []):
            found[message["MessageId"]] = json.loads(message["Body"])
    return list(found.values())


def _cutout(description: dict[str, Any], *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return subprocess.run(
        cutout_command(*arguments, "--endpoint-url", description["endpoint_url"]),
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def _output(description: dict[str, Any], key: str) -> dict[str, Any] | None:
    s3 = _client(description, "s3")
    try:
        answer: dict[str, Any] = s3.head_object(Bucket=description["output_bucket"], Key=key)
    except s3.exceptions.ClientError:
        return None
    return answer


def test_the_stack_joins_the_shops_bucket_and_cuts_out_its_uploads(
    existing_bucket_stack: tuple[dict[str, Any], Path],
) -> None:
    # Given the stack on the shop's own bucket, for keys under shop/
    description, log_path = existing_bucket_stack
    s3 = _client(description, "s3")

    # When a photo is uploaded there, and another outside the prefix
    s3.put_object(Bucket=BUCKET, Key="shop/mug blue.jpg", Body=product_photo())
    s3.put_object(Bucket=BUCKET, Key="private/passport.jpg", Body=product_photo())

    # Then its master appears (the event came through EventBridge), the other is never touched
    head = wait_for(lambda: _output(description, "masters/shop/mug blue.jpg.png"), what="cut-out")
    assert head["Metadata"]["source-bucket"] == BUCKET
    assert description["input_bucket"] == BUCKET
    log = log_path.read_text()
    assert "ExistingInputBucketRule" not in " ".join(
        line for line in log.splitlines() if "not emulated" in line
    )
    assert "EventBridge notifications turned on" in log
    time.sleep(2)
    assert _output(description, "masters/private/passport.jpg.png") is None
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert not [name for name in buckets if name.startswith("cutout-input-")]


def test_a_failed_upload_backfilled_and_replayed_keeps_one_dlq_record(
    existing_bucket_stack: tuple[dict[str, Any], Path],
) -> None:
    # Given an upload to the unversioned bucket that failed validation: one DLQ record, by its event
    description, _ = existing_bucket_stack
    s3 = _client(description, "s3")
    s3.put_object(Bucket=BUCKET, Key="shop/tiny.jpg", Body=product_photo(40, 40))
    wait_for(
        lambda: [r for r in _dead_letters(description) if r["source"]["key"] == "shop/tiny.jpg"],
        what="DLQ record",
    )

    # When the prefix is backfilled (the message names the object by its ETag, the event did too but
    # with a sequencer) and the queue settles
    result = _cutout(description, "backfill", f"s3://{BUCKET}/shop/")
    assert result.returncode == 0, result.stderr
    time.sleep(5)

    # Then there is still one DLQ record for it, and replaying the DLQ replays one message
    records = [r for r in _dead_letters(description) if r["source"]["key"] == "shop/tiny.jpg"]
    assert len(records) == 1
    assert records[0]["error"]["code"] == "image_too_small"
    replay = _cutout(description, "dlq", "replay", "--reason", "image_too_small", "--include-permanent")
    assert replay.returncode == 0, replay.stderr
    assert "replayed 1 of 1" in replay.stdout


def test_the_stack_joins_a_bucket_that_notifies_an_sns_topic(
    existing_topic_stack: tuple[dict[str, Any], Path],
) -> None:
    # Given the stack subscribed to the topic the shop's bucket notifies
    description, log_path = existing_topic_stack
    s3 = _client(description, "s3")

    # When a photo is uploaded to the bucket
    s3.put_object(Bucket=BUCKET, Key="catalogue/a b+c.jpg", Body=product_photo())

    # Then its master appears: S3 -> SNS -> SQS, through the SNS envelope
    head = wait_for(lambda: _output(description, "masters/catalogue/a b+c.jpg.png"), what="cut-out")
    assert head["Metadata"]["source-bucket"] == BUCKET
    assert "ExistingTopicSubscription (AWS::SNS::Subscription" in log_path.read_text()
