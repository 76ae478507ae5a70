"""The ``LocalStack`` API in-process: the stack follows the template, and settles uploads.

Uses a fast fake engine behind the emulator: what is checked here is the topology and the
event source mapping, not cut-out quality.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from cutout_tools.local_stack import LocalStack
from tests.e2e.support import product_photo
from tests.functional.aidge_testkit import FakeCutoutEngine

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:No application metrics to publish")]
KEY_NAME = "e2e-key"
KEY_SECRET = "e2e-secret-Zq8XWv3pL0"  # recognisable: it must never reach the log

OVERRIDES = {"BatchSize": "3", "MaxConcurrency": "2"}  # and the template's default profiles


@pytest.fixture(scope="module")
def stack_and_log() -> Iterator[tuple[LocalStack, list[str]]]:
    lines: list[str] = []
    stack = LocalStack(
        port=0,
        parameter_overrides=OVERRIDES,
        engine=FakeCutoutEngine(),
        key_name=KEY_NAME,
        key_secret=KEY_SECRET,
        log=lines.append,
    )
    with stack:
        yield stack, lines


def test_the_event_source_mapping_takes_its_numbers_from_the_template(
    stack_and_log: tuple[LocalStack, list[str]],
) -> None:
    # Given a stack started with BatchSize 3 and MaxConcurrency 2 as template parameters
    stack, _ = stack_and_log
    # When its poller is inspected
    poller = stack.poller
    # Then it batches and scales as the template's event source says
    assert poller is not None
    assert (poller.batch_size, poller.maximum_concurrency) == (3, 2)


def test_what_moto_skips_is_applied_from_the_template_and_said_in_the_log(
    stack_and_log: tuple[LocalStack, list[str]],
) -> None:
    # Given the running stack
    stack, lines = stack_and_log
    facts = stack.describe()
    s3, sqs = stack.client("s3"), stack.client("sqs")
    # When the input bucket and the work queue are described through the AWS API
    versioning = s3.get_bucket_versioning(Bucket=facts["input_bucket"])
    notifications = s3.get_bucket_notification_configuration(Bucket=facts["input_bucket"])
    attributes = sqs.get_queue_attributes(QueueUrl=facts["work_queue_url"], AttributeNames=["All"])[
        "Attributes"
    ]
    # Then versioning, the S3 -> SQS notification and the queue policy are there, each said in the log
    assert versioning["Status"] == "Enabled"
    assert [c["QueueArn"] for c in notifications["QueueConfigurations"]] == [facts["work_queue_arn"]]
    assert json.loads(attributes["Policy"])["Statement"][0]["Sid"] == "AllowInputBucketNotifications"
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"] == facts["dead_letter_queue_arn"]
    for thing in (
        "InputBucket.VersioningConfiguration",
        "InputBucket.NotificationConfiguration",
        "WorkQueuePolicy",
    ):
        assert any(thing in line and "applied by hand" in line for line in lines), thing
    # And the secret holds the emulator's key, whose secret half never reaches the log
    secret = stack.client("secretsmanager").get_secret_value(SecretId=facts["aidge_secret_name"])
    assert json.loads(secret["SecretString"]) == {"app_key": KEY_NAME, "app_secret": KEY_SECRET}
    assert not any(KEY_SECRET in line for line in lines)


def test_uploads_settle_and_the_stack_goes_idle(stack_and_log: tuple[LocalStack, list[str]]) -> None:
    # Given the running stack and five uploads (more than one batch of 3)
    stack, lines = stack_and_log
    facts = stack.describe()
    s3 = stack.client("s3")
    for number in range(5):
        s3.put_object(Bucket=facts["input_bucket"], Key=f"batch/item-{number}.jpg", Body=product_photo())
    # When the stack is waited on until idle
    stack.wait_until_idle(timeout=120)
    # Then each upload has its master and the default profile's variants (the Amazon one a JPEG on
    # white), and every batch held at most 3 records
    listed = {item["Key"] for item in s3.list_objects_v2(Bucket=facts["output_bucket"]).get("Contents", [])}
    for n in range(5):
        key = f"batch/item-{n}.jpg"
        assert {f"masters/{key}.png", f"web-transparent/{key}.png", f"listing-webp/{key}.webp"} <= listed
        amazon = s3.get_object(Bucket=facts["output_bucket"], Key=f"amazon-main/{key}.jpg")
        assert amazon["ContentType"] == "image/jpeg"
    batch_sizes = [int(line.split()[1]) for line in lines if line.startswith("batch: ")]
    assert batch_sizes
    assert max(batch_sizes) <= 3


def test_answers_in_the_documented_shape_run_the_production_policy(
    stack_and_log: tuple[LocalStack, list[str]],
) -> None:
    # Given the running stack, whose emulator answers like the reference's sample (a plain-http,
    # OSS-signed result URL on an OSS-shaped host) and whose function allowlists only its address
    stack, lines = stack_and_log
    facts = stack.describe()
    s3 = stack.client("s3")
    before = stack.emulator.stats()
    # When an upload is processed
    # (the default photo: a product amazon-main enlarges under the quality gate's 4x limit)
    s3.put_object(Bucket=facts["input_bucket"], Key="shape/sample.jpg", Body=product_photo())
    stack.wait_until_idle(timeout=120)
    # Then the result was fetched over https (the template's upgrade-then-http), its signature held,
    # and its outputs exist (a master and three variants), billed once
    after = stack.emulator.stats()
    assert after["result_fetches_by_scheme"].get("https", 0) > before["result_fetches_by_scheme"].get(
        "https", 0
    )
    assert after["result_refused"] == before["result_refused"]
    assert after["billed"] == before["billed"] + 1
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=facts["output_bucket"])["Contents"]]
    assert sorted(key for key in keys if "shape/sample.jpg" in key) == [
        "amazon-main/shape/sample.jpg.jpg",
        "listing-webp/shape/sample.jpg.webp",
        "masters/shape/sample.jpg.png",
        "web-transparent/shape/sample.jpg.png",
    ]
    assert any(stack.emulator.result_host in line for line in lines)
