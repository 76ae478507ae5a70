"""The benchmark's AWS and Aidge: moto as an HTTP server and the emulator, both in this process.

Resources mirror the deployed stack (versioned input bucket notifying a work queue, output bucket,
DLQ, idempotency table, Aidge secret), like ``tests/functional/pipeline/world.py``. Each side of
the benchmark gets its own output bucket; ``function_environment`` is what the child process runs
with (the production variables, plus ``AWS_ENDPOINT_URL`` pointing at moto).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from cutout_tools.emulator import AidgeEmulator
from cutout_tools.local_stack.lambda_runtime import sqs_event_from_messages
from cutout_tools.template import StackContext, load_template, resolved_function_environment

from .sized_engine import SizedResultEngine

REGION = "us-east-1"
KEY_NAME = "512345"
KEY_SECRET = "bench-secret-not-a-real-one"  # noqa: S105
AWS_VARIABLES = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class BenchStack:
    """Start with ``with BenchStack(latency_ms=2000) as stack:``; everything stops on exit."""

    def __init__(self, *, latency_ms: float) -> None:
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.engine = SizedResultEngine()
        self.emulator = AidgeEmulator(
            key_name=KEY_NAME,
            key_secret=KEY_SECRET,
            engine=self.engine,
            latency_ms=latency_ms,
            seed=7,
            engine_concurrency=16,
            # The function runs in a child process, without the resolver seam: results on the
            # emulator's address (the production policy still runs: https first, then http).
            results_on_address=True,
        )
        self.suffix = uuid.uuid4().hex[:8]
        self.endpoint = ""

    def __enter__(self) -> BenchStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        logging.getLogger("cutout_tools.emulator").setLevel(logging.WARNING)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.emulator.start()
        os.environ.update(AWS_VARIABLES)
        self._create_resources()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.emulator.stop()
        self._moto.stop()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def _create_resources(self) -> None:
        s3, sqs = self.client("s3"), self.client("sqs")
        self.s3, self.sqs = s3, sqs
        self.input_bucket = f"bench-in-{self.suffix}"
        self.output_buckets = {side: f"bench-out-{side}-{self.suffix}" for side in ("cutout", "baseline")}
        self.dlq_url = sqs.create_queue(QueueName=f"bench-dlq-{self.suffix}")["QueueUrl"]
        self.work_queue_url = sqs.create_queue(
            QueueName=f"bench-work-{self.suffix}", Attributes={"VisibilityTimeout": "300"}
        )["QueueUrl"]
        self.work_queue_arn = sqs.get_queue_attributes(
            QueueUrl=self.work_queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        s3.create_bucket(Bucket=self.input_bucket)
        s3.put_bucket_versioning(Bucket=self.input_bucket, VersioningConfiguration={"Status": "Enabled"})
        for bucket in self.output_buckets.values():
            s3.create_bucket(Bucket=bucket)
        self.staging_bucket = f"bench-staging-{self.suffix}"  # where normalised images wait (issue 11)
        s3.create_bucket(Bucket=self.staging_bucket)
        s3.put_bucket_notification_configuration(
            Bucket=self.input_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": self.work_queue_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "cutout/"}]}},
                    }
                ]
            },
        )
        sqs.purge_queue(QueueUrl=self.work_queue_url)  # S3's s3:TestEvent for the new configuration
        self.table = f"bench-idempotency-{self.suffix}"
        self.client("dynamodb").create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.secret = f"cutout/aidge-{self.suffix}"
        self.client("secretsmanager").create_secret(
            Name=self.secret, SecretString=json.dumps({"app_key": KEY_NAME, "app_secret": KEY_SECRET})
        )

    # -- the two sides' environments ------------------------------------------------------------

    def function_environment(
        self, side: str, memory_mb: int, *, deliverables: bool = False
    ) -> dict[str, str]:
        """The child process's environment. ``deliverables``: the template's default profiles file
        (what a default deployment's init parses); otherwise the single cut-out mode."""
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ENDPOINT_URL": self.endpoint,
            "BENCH_MEMORY_MB": str(memory_mb),
            "PYTHONHASHSEED": "0",
            **AWS_VARIABLES,
            # Knobs to try on the function's process without editing the benchmark.
            **{name: value for name, value in os.environ.items() if name.startswith("MALLOC_")},
        }
        if side == "baseline":
            return environment | {
                "AIDGE_API_URL": self.emulator.api_url,
                "AIDGE_APP_KEY": KEY_NAME,
                "AIDGE_APP_SECRET": KEY_SECRET,
                "OUTPUT_BUCKET": self.output_buckets["baseline"],
            }
        # The single cut-out mode (ProfilesFile empty): the baseline's job, like for like. The
        # template's default deliverables add the variants' rendering, measured by bench/variants.py.
        template_environment = self._template_environment()
        if deliverables:
            return environment | template_environment
        return environment | template_environment | {"PROFILES_FILE": ""}

    def _template_environment(self) -> dict[str, str]:
        """The function's environment as template.yaml sets it (its parameter defaults), with the
        template's resources resolved to this bench's and the Aidge endpoint pointed at the emulator."""
        resources = {
            "OutputBucket": self.output_buckets["cutout"],
            "DeadLetterQueue": self.dlq_url,
            "IdempotencyTable": self.table,
            "AidgeSecret": self.secret,
            "WorkQueue": "",  # no re-enqueueing of paused messages in the bench (it sets no budget)
            "StagingBucket": self.staging_bucket,
        }

        def resolve_resource(logical_id: str, attribute: str | None) -> str:
            if attribute is not None or logical_id not in resources:
                raise KeyError(f"the bench does not emulate {logical_id}.{attribute}")
            return resources[logical_id]

        template = load_template()
        context = StackContext.from_template(template, resource_resolver=resolve_resource)
        return {
            **resolved_function_environment(template, context),
            # No event source to pause and no budget parameter in the bench (it sets no budget, as
            # WorkQueue above): the start-up checks of those two SSM parameters (issue 24) are not run
            # here, so the init figure leaves out their two or three AWS calls.
            "EVENT_SOURCE_MAPPING_PARAMETER": "",
            "BUDGET_PARAMETER": "",
            "AIDGE_API_HOST": self.emulator.url.split("://", 1)[1],
            "AIDGE_API_SCHEME": "http",
            "RESULT_URL_ALLOWLIST": self.emulator.url,
        }

    # -- events ---------------------------------------------------------------------------------

    def upload(self, side: str, run: int, images: list[bytes]) -> list[str]:
        keys = [f"{side}/run{run}/image-{index:02d}.jpg" for index in range(len(images))]
        for key, data in zip(keys, images, strict=True):
            self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=data, ContentType="image/jpeg")
        return keys

    def sqs_batch(self, expected: int, timeout_seconds: float = 60.0) -> tuple[dict[str, Any], list[str]]:
        """The event source mapping's part: receive ``expected`` notifications as one SQS event."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_seconds
        while len(messages) < expected and time.monotonic() < deadline:
            messages += self.sqs.receive_message(
                QueueUrl=self.work_queue_url,
                MaxNumberOfMessages=min(10, expected - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=1,
            ).get("Messages", [])
        if len(messages) != expected:
            raise RuntimeError(f"expected {expected} notifications, received {len(messages)}")
        event = sqs_event_from_messages(messages, self.work_queue_arn, REGION)
        return event, [message["ReceiptHandle"] for message in messages]

    def delete_messages(self, receipt_handles: list[str]) -> None:
        for handle in receipt_handles:
            self.sqs.delete_message(QueueUrl=self.work_queue_url, ReceiptHandle=handle)

    def dlq_records(self) -> list[str]:
        messages = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return [message["Body"] for message in messages]

    def s3_event(self, key: str) -> dict[str, Any]:
        """The minimal S3 notification the baseline reads (one record per invocation)."""
        return {
            "Records": [{"s3": {"bucket": {"name": self.input_bucket}, "object": {"key": key}}}],
        }

    def output_count(self, side: str) -> int:
        listed = self.s3.list_objects_v2(Bucket=self.output_buckets[side])
        return int(listed.get("KeyCount", 0))
