"""The template's estate shapes deployed into moto the way the local stack deploys them.

- your own bucket: no input bucket is created; an EventBridge rule on the bucket's "Object Created"
  events (bucket, prefix, suffix) feeds the work queue; the bucket's notifications stay as they were;
- your own bucket whose notifications already go to an SNS topic: the work queue subscribes;
- the stack's own bucket with the same key prefix/suffix filters.

moto's S3 sends EventBridge events to the rules of the account's buses (when the bucket has
``EventBridgeConfiguration``) and publishes to SNS topics, which deliver envelopes to SQS: the
delivery in these tests is moto's, not ours.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.functional.local_aws import moto_server

from cutout.events import MessageKind, uploads_from_sqs_body
from cutout_tools.local_stack.deploy import DeployedStack, deploy_template, local_client
from cutout_tools.template import load_template, queue_policies

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Tried to parse AWS::")]

REGION = "us-east-1"
SECRET = json.dumps({"app_key": "k", "app_secret": "s"})


@pytest.fixture(scope="module")
def module_moto() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def moto(module_moto: str) -> str:
    """The module's moto. Never reset: moto's state is per process, and other modules' stacks share it;
    each test names its buckets, topics and queues uniquely (``_name``)."""
    return module_moto


def _name(base: str) -> str:
    return f"{base}-{uuid.uuid4().hex[:8]}"


def _deploy(endpoint: str, **parameters: str) -> DeployedStack:
    return deploy_template(
        template=load_template(),
        endpoint_url=endpoint,
        region=REGION,
        stack_name=f"cutout-{uuid.uuid4().hex[:8]}",
        parameter_overrides=parameters,
        aidge_secret_string=SECRET,
    )


def _drain(sqs: Any, queue_url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _uploads(bodies: list[str]) -> list[tuple[MessageKind, str, str]]:
    found = []
    for body in bodies:
        parsed = uploads_from_sqs_body(body)
        found.extend((parsed.kind, upload.bucket, upload.key) for upload in parsed.uploads)
    return found


def _existing_bucket(endpoint: str, name: str) -> tuple[Any, str]:
    """A bucket as a shop has it: unversioned, already notifying another system's queue."""
    s3, sqs = local_client("s3", endpoint, REGION), local_client("sqs", endpoint, REGION)
    s3.create_bucket(Bucket=name)
    other_queue = sqs.create_queue(QueueName=_name("search-indexer"))["QueueUrl"]
    other_arn = sqs.get_queue_attributes(QueueUrl=other_queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3.put_bucket_notification_configuration(
        Bucket=name,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "indexer", "QueueArn": other_arn, "Events": ["s3:ObjectCreated:*"]}
            ],
            "EventBridgeConfiguration": {},
        },
    )
    _drain(sqs, other_queue)  # S3's test event
    return s3, other_queue


def test_your_own_bucket_feeds_the_work_queue_through_eventbridge_and_keeps_its_notifications(
    moto: str,
) -> None:
    # Given a shop's bucket with EventBridge notifications on and a notification of its own
    bucket = _name("shop-photos")
    s3, indexer_queue = _existing_bucket(moto, bucket)
    configuration_before = s3.get_bucket_notification_configuration(Bucket=bucket)

    # When the stack is deployed on it, for products/*.jpg, and photos are uploaded
    stack = _deploy(moto, ExistingInputBucketName=bucket, InputKeyPrefix="products/", InputKeySuffix=".jpg")
    for key in ("products/mug blue.jpg", "products/mug.png", "archive/old.jpg", "products/sub/ü.jpg"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff")

    # Then the stack made no bucket, left the bucket's notifications alone, and queued exactly the
    # matching keys as EventBridge events
    sqs = local_client("sqs", moto, REGION)
    assert "InputBucket" not in stack.physical_ids
    assert stack.outputs["InputBucketName"] == bucket
    configuration_after = s3.get_bucket_notification_configuration(Bucket=bucket)
    configuration_before.pop("ResponseMetadata")
    configuration_after.pop("ResponseMetadata")
    assert configuration_after == configuration_before
    queued = _uploads(_drain(sqs, stack.ref("WorkQueue")))
    assert sorted(queued) == [
        (MessageKind.EVENTBRIDGE, bucket, "products/mug blue.jpg"),
        (MessageKind.EVENTBRIDGE, bucket, "products/sub/ü.jpg"),
    ]
    assert len(_drain(sqs, indexer_queue)) == 4  # the other system still gets every upload


def test_the_work_queue_lets_exactly_the_buckets_rule_send(moto: str) -> None:
    # Given the stack deployed on an existing bucket
    bucket = _name("shop-photos")
    _existing_bucket(moto, bucket)
    stack = _deploy(moto, ExistingInputBucketName=bucket)

    # When the work queue's policy is read back from the queue
    sqs = local_client("sqs", moto, REGION)
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=stack.ref("WorkQueue"), AttributeNames=["Policy"])["Attributes"][
            "Policy"
        ]
    )

    # Then EventBridge may send, only for the stack's rule; S3 and SNS may not
    allows = [statement for statement in policy["Statement"] if statement["Effect"] == "Allow"]
    rule_arn = stack.get_att("ExistingInputBucketRule", "Arn")
    assert [(s["Principal"], s["Condition"]["ArnEquals"]["aws:SourceArn"]) for s in allows] == [
        ({"Service": "events.amazonaws.com"}, rule_arn)
    ]
    events = local_client("events", moto, REGION)
    (target,) = events.list_targets_by_rule(Rule=stack.ref("ExistingInputBucketRule"))["Targets"]
    assert target["Arn"] == stack.get_att("WorkQueue", "Arn")


def test_your_own_bucket_notifying_an_sns_topic_feeds_the_work_queue_through_a_subscription(
    moto: str,
) -> None:
    # Given a shop's bucket whose S3 notifications fan out through an SNS topic
    bucket = _name("shop-photos")
    s3, sns = local_client("s3", moto, REGION), local_client("sns", moto, REGION)
    s3.create_bucket(Bucket=bucket)
    topic_arn = sns.create_topic(Name=_name("shop-photos-uploaded"))["TopicArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )

    # When the stack subscribes its work queue to the topic and a photo is uploaded
    stack = _deploy(moto, ExistingInputBucketName=bucket, ExistingSnsTopicArn=topic_arn)
    s3.put_object(Bucket=bucket, Key="products/a b+c.jpg", Body=b"\xff\xd8\xff")

    # Then the work queue got S3's notification inside an SNS envelope, parsed to the upload; no rule
    sqs = local_client("sqs", moto, REGION)
    bodies = _drain(sqs, stack.ref("WorkQueue"))
    assert all(json.loads(body)["Type"] == "Notification" for body in bodies)
    assert [upload[1:] for upload in _uploads(bodies)] == [(bucket, "products/a b+c.jpg")]
    assert {uploads_from_sqs_body(body).sns_topic_arn for body in bodies} == {topic_arn}
    assert "ExistingInputBucketRule" not in stack.physical_ids
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert subscription["Endpoint"] == stack.get_att("WorkQueue", "Arn")
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])[
        "Attributes"
    ]
    assert attributes["RawMessageDelivery"] == "false"


def test_the_work_queue_lets_exactly_the_named_topic_send(moto: str) -> None:
    # Given the stack subscribed to a topic
    sns = local_client("sns", moto, REGION)
    bucket = _name("shop-photos")
    local_client("s3", moto, REGION).create_bucket(Bucket=bucket)
    topic_arn = sns.create_topic(Name=_name("shop-photos-uploaded"))["TopicArn"]
    stack = _deploy(moto, ExistingInputBucketName=bucket, ExistingSnsTopicArn=topic_arn)

    # When the work queue policy is evaluated
    (policy,) = [
        p for p in queue_policies(stack.template, stack.context) if p.queue_logical_ids == ("WorkQueue",)
    ]

    # Then SNS may send, from that topic only
    allows = [statement for statement in policy.document["Statement"] if statement["Effect"] == "Allow"]
    assert [(s["Principal"], s["Condition"]["ArnEquals"]["aws:SourceArn"]) for s in allows] == [
        ({"Service": "sns.amazonaws.com"}, topic_arn)
    ]


def test_the_stacks_own_bucket_takes_the_same_key_filters(moto: str) -> None:
    # Given the stack with its own bucket, for products/*.jpg
    stack = _deploy(moto, InputKeyPrefix="products/", InputKeySuffix=".jpg")
    s3, sqs = local_client("s3", moto, REGION), local_client("sqs", moto, REGION)
    bucket = stack.ref("InputBucket")
    _drain(sqs, stack.ref("WorkQueue"))  # S3's test event

    # When photos are uploaded inside and outside the filters
    for key in ("products/mug.jpg", "products/mug.png", "archive/old.jpg"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"\xff\xd8\xff")

    # Then only the matching key is queued, as an S3 notification, and the filters are the bucket's own
    assert [upload[::2] for upload in _uploads(_drain(sqs, stack.ref("WorkQueue")))] == [
        (MessageKind.S3_NOTIFICATION, "products/mug.jpg")
    ]
    (configuration,) = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    rules = {rule["Name"].lower(): rule["Value"] for rule in configuration["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "products/", "suffix": ".jpg"}
