"""The estate a shop already has, played in moto before the stack joins it (``--existing-bucket``).

``cutout local up --existing-bucket NAME`` makes the bucket a shop would already own (unversioned,
as many are, so the ETag-and-write-time identity is exercised), turns on its EventBridge
notifications the way docs/estate.md tells users to (keeping any notification it has), and deploys the
template with ``ExistingInputBucketName=NAME``: the stack creates no bucket, and the template's
EventBridge rule routes the bucket's "Object Created" events to the work queue. With
``--existing-topic TOPIC`` the bucket instead notifies an SNS topic (S3 -> SNS fan-out, the other
common estate) and the template subscribes the work queue to it.

The routing itself is moto's: its S3 sends EventBridge events to the rules of the account's buses
(when the bucket has ``EventBridgeConfiguration``) and publishes to SNS topics, whose SQS
subscriptions get SNS envelopes. Nothing of it is emulated here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def enable_eventbridge_notifications(s3: Any, bucket: str) -> dict[str, Any]:
    """Turn on EventBridge notifications for ``bucket``, keeping its other notifications.

    ``PutBucketNotificationConfiguration`` replaces the whole configuration, so the current one is
    read first and written back with ``EventBridgeConfiguration`` added. Returns what was written.
    """
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    kept = {
        name: value
        for name, value in current.items()
        if name
        in {
            "TopicConfigurations",
            "QueueConfigurations",
            "LambdaFunctionConfigurations",
            "EventBridgeConfiguration",
        }
    }
    configuration = {**kept, "EventBridgeConfiguration": {}}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    return configuration


@dataclass(frozen=True, slots=True)
class Estate:
    """What the stack joins: the bucket, and the topic its notifications go to (if any)."""

    bucket: str
    topic_name: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    facts: tuple[str, ...] = ()


def prepare_estate(s3: Any, sns: Any, bucket: str, topic_name: str | None) -> Estate:
    """Create the shop's bucket (and topic) in moto if absent; wire its notifications as a shop would."""
    facts: list[str] = []
    existing = {item["Name"] for item in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
        facts.append(f"bucket {bucket} created as a shop's own bucket would be: unversioned, no lifecycle")
    parameters = {"ExistingInputBucketName": bucket}
    if topic_name is None:
        enable_eventbridge_notifications(s3, bucket)
        facts.append(f"EventBridge notifications turned on for {bucket} (its other notifications kept)")
        return Estate(bucket=bucket, parameters=parameters, facts=tuple(facts))
    topic_arn = str(sns.create_topic(Name=topic_name)["TopicArn"])
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    topics = [entry for entry in current.get("TopicConfigurations", []) if entry.get("TopicArn") != topic_arn]
    topics.append({"TopicArn": topic_arn, "Events": ["s3:ObjectCreated:*"]})
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            **{
                k: v
                for k, v in current.items()
                if k in {"QueueConfigurations", "LambdaFunctionConfigurations"}
            },
            "TopicConfigurations": topics,
        },
    )
    facts.append(f"{bucket} notifies SNS topic {topic_arn} (S3 -> SNS fan-out); the stack subscribes to it")
    parameters["ExistingSnsTopicArn"] = topic_arn
    return Estate(bucket=bucket, topic_name=topic_name, parameters=parameters, facts=tuple(facts))
