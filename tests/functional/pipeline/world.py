"""A small AWS world on loopback for the pipeline's functional tests.

moto runs as a real HTTP server (so presigned URLs are fetched over HTTP by the emulator), the
Aidge emulator runs on another port, and the real handler runs in-process with the production
wiring (``cutout.wiring.aws_pipeline``). ``deliver`` plays the event source mapping's part:
receive a batch, invoke, delete what succeeded, leave failures for redelivery.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from cutout.engine.aidge.seams import AidgeSeams
from cutout.entrypoint import Pipeline
from cutout.settings import Settings
from cutout.wiring import aws_pipeline
from cutout_tools.emulator import AidgeEmulator
from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext, sqs_event_from_messages

REGION = "us-east-1"
KEY_NAME = "512345"
KEY_SECRET = "functional-test-secret-Zq8XWv3pL0"  # recognisable: tests check it never leaks


@dataclass
class World:
    emulator: AidgeEmulator
    handler: Callable[..., dict[str, Any]]
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    overrides: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.input_bucket = f"cutout-in-{self.suffix}"
        self.output_bucket = f"cutout-out-{self.suffix}"
        self.dlq_url = self.sqs.create_queue(QueueName=f"dlq-{self.suffix}")["QueueUrl"]
        dlq_arn = self._queue_arn(self.dlq_url)
        self.work_queue_url = self.sqs.create_queue(
            QueueName=f"work-{self.suffix}",
            Attributes={
                # As the template sets it: 6 x the function's timeout (LocalLambdaContext's 120 s).
                # A message is never received again while it is still being worked on, however
                # slow a loaded machine is; failures come back when the function says (its retry
                # schedule, RETRY_BACKOFF_SECONDS below), as on AWS.
                "VisibilityTimeout": str(6 * int(LocalLambdaContext.timeout_seconds)),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"}),
            },
        )["QueueUrl"]
        self.work_queue_arn = self._queue_arn(self.work_queue_url)
        self.s3.create_bucket(Bucket=self.input_bucket)
        self.s3.put_bucket_versioning(Bucket=self.input_bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.create_bucket(Bucket=self.output_bucket)
        self.s3.put_bucket_notification_configuration(
            Bucket=self.input_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": self.work_queue_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        table = f"idempotency-{self.suffix}"
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        secret = f"cutout/aidge-{self.suffix}"
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=secret, SecretString=json.dumps({"app_key": KEY_NAME, "app_secret": KEY_SECRET})
        )
        emulator_origin = self.emulator.url
        self.environment = {
            "OUTPUT_BUCKET": self.output_bucket,
            "DEAD_LETTER_QUEUE_URL": self.dlq_url,
            "IDEMPOTENCY_TABLE": table,
            "AIDGE_SECRET_NAME": secret,
            "AIDGE_API_HOST": emulator_origin.split("://", 1)[1],
            "AIDGE_API_SCHEME": "http",
            "RESULT_URL_ALLOWLIST": self.emulator.address,  # its loopback address only
            "MAX_RECEIVE_COUNT": "3",
            # The retry schedule at 1 s, so failures come back quickly (tests of the schedule set their own).
            "RETRY_BACKOFF_SECONDS": "1",
            "RATE_LIMIT_BACKOFF_SECONDS": "1",
            "RETRY_JITTER": "0",
            **self.overrides,
        }
        seams = AidgeSeams(resolver=self.emulator.result_resolver, verify=self.emulator.client_ssl_context())
        self.pipeline: Pipeline = aws_pipeline(Settings.from_env(self.environment), aidge_seams=seams)
        self.emulator.reset()

    def _queue_arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    # -- acting ----------------------------------------------------------------------------------

    def upload(self, key: str, data: bytes) -> str:
        """Put an object in the input bucket; S3 notifies the work queue. Returns the version id."""
        return self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=data)["VersionId"]

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.work_queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler(event, LocalLambdaContext(), pipeline=self.pipeline)

    def deliver(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke with these messages as one batch, then delete the ones that did not fail."""
        response = self.invoke(sqs_event_from_messages(messages, self.work_queue_arn, REGION))
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.work_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return response

    def drain(self, timeout_seconds: float = 60.0) -> None:
        """Play the event source mapping until the work queue is empty (failures come back after 1 s)."""
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            messages = self.receive()
            if messages:
                self.deliver(messages)
                continue
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=self.work_queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if (
                attributes["ApproximateNumberOfMessages"] == "0"
                and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
            ):
                return
            time.sleep(0.2)
        raise TimeoutError("the work queue did not drain")

    # -- observing -------------------------------------------------------------------------------

    def outputs(self) -> dict[str, dict[str, Any]]:
        """Output key → {"metadata", "content_type", "body"}."""
        found: dict[str, dict[str, Any]] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.output_bucket):
            for item in page.get("Contents", []):
                answer = self.s3.get_object(Bucket=self.output_bucket, Key=item["Key"])
                found[item["Key"]] = {
                    "metadata": answer["Metadata"],
                    "content_type": answer["ContentType"],
                    "body": answer["Body"].read(),
                }
        return found

    def dlq_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
            ).get("Messages", [])
            if not messages:
                return records
            records.extend(json.loads(message["Body"]) for message in messages)
