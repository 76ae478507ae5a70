"""The operations behind ``cutout resume``, ``cutout budget status`` and ``cutout review``.

Each acts on a stack's resources as its CloudFormation outputs name them (a deployed stack, or the
local stack in moto). No call here reaches the Aidge API: approving a held cut-out is an S3 copy.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cutout.announcements import RESUMED, SOURCE, EventBridgePublisher, pause_announcement
from cutout.budget import BudgetLimits, BudgetStatus, DynamoDbBudget, LambdaEventSourceSwitch
from cutout.quality_gate.review import REVIEW_METADATA, REVIEW_PREFIX, REVIEW_TAG, published_key
from cutout_tools.operations.stack import OperationsError, StackNotFoundError

OUTPUTS = {
    "output_bucket": "OutputBucketName",
    "mapping_id": "WorkQueueEventSourceMappingId",
    "table": "IdempotencyTableName",
    "event_bus": "EventBusName",
    "function_name": "ProcessUploadFunctionName",
}


@dataclass(frozen=True, slots=True)
class UnattendedStack:
    output_bucket: str
    mapping_id: str
    table: str
    event_bus: str
    function_name: str


def resolve(cloudformation: Any, stack_name: str) -> UnattendedStack:
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as error:
        if "does not exist" in str(error) or "ValidationError" in str(error):
            raise StackNotFoundError(f"no CloudFormation stack named {stack_name!r}") from error
        raise
    outputs = {item["OutputKey"]: item.get("OutputValue", "") for item in stacks[0].get("Outputs", [])}
    missing = sorted(name for name in OUTPUTS.values() if name not in outputs)
    if missing:
        raise OperationsError(
            f"stack {stack_name!r} has no output {', '.join(missing)}: deployed from an older template?"
        )
    return UnattendedStack(**{field: outputs[name] for field, name in OUTPUTS.items()})


# -- budget and pause ------------------------------------------------------------------------------


def budget_limits(lambdas: Any, stack: UnattendedStack) -> BudgetLimits:
    variables = lambdas.get_function_configuration(FunctionName=stack.function_name).get("Environment", {})
    values = variables.get("Variables", {})
    return BudgetLimits(
        daily=int(values.get("DAILY_BUDGET", 0)), monthly=int(values.get("MONTHLY_BUDGET", 0))
    )


def budget_status(session: Any, stack: UnattendedStack) -> tuple[BudgetStatus, str]:
    """The current period's spending and the mapping's state (``Enabled``, ``Disabled``…)."""
    lambdas = session.client("lambda")
    budget = DynamoDbBudget(session.client("dynamodb"), stack.table, budget_limits(lambdas, stack))
    state = LambdaEventSourceSwitch(lambdas, mapping_id=stack.mapping_id).state()
    return budget.status(), state.state


def set_budget(
    session: Any, stack: UnattendedStack, *, daily: int | None, monthly: int | None
) -> BudgetLimits:
    """Change the function's budget variables (new execution environments pick them up)."""
    lambdas = session.client("lambda")
    configuration = lambdas.get_function_configuration(FunctionName=stack.function_name)
    variables = {
        name: str(value)
        for name, value in ((configuration.get("Environment") or {}).get("Variables") or {}).items()
    }
    if daily is not None:
        variables["DAILY_BUDGET"] = str(daily)
    if monthly is not None:
        variables["MONTHLY_BUDGET"] = str(monthly)
    lambdas.update_function_configuration(
        FunctionName=stack.function_name, Environment={"Variables": variables}
    )
    return BudgetLimits(
        daily=int(variables.get("DAILY_BUDGET", 0)), monthly=int(variables.get("MONTHLY_BUDGET", 0))
    )


def resume(session: Any, stack: UnattendedStack, *, by: str = "cutout resume") -> bool:
    """Enable the work queue's mapping again; announces ``Cutout Resumed``. True if it was paused."""
    switch = LambdaEventSourceSwitch(session.client("lambda"), mapping_id=stack.mapping_id)
    changed = switch.enable()
    if changed and stack.event_bus:
        announcement = pause_announcement(
            RESUMED, reason_code="resumed", message=f"The pipeline was resumed by {by}.", by=by
        )
        EventBridgePublisher(session.client("events"), stack.event_bus).publish([announcement])
    return changed


# -- review ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldOutput:
    key: str
    reasons: tuple[str, ...]
    size: int


def held_outputs(s3: Any, bucket: str, prefix: str = "") -> Iterator[HeldOutput]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=REVIEW_PREFIX + prefix):
        for item in page.get("Contents", []):
            head = s3.head_object(Bucket=bucket, Key=item["Key"])
            reasons = tuple(filter(None, head.get("Metadata", {}).get(REVIEW_METADATA, "").split(",")))
            yield HeldOutput(item["Key"], reasons, int(item.get("Size", 0)))


def _held_key(key: str) -> str:
    return key if key.startswith(REVIEW_PREFIX) else REVIEW_PREFIX + key


def approve(s3: Any, bucket: str, key: str) -> str:
    """Publish a held output: copy it to its published key (metadata kept, review marks dropped), then
    delete the held copy. No API call: the cut-out was paid for once already."""
    held = _held_key(key)
    target = published_key(held)
    head = s3.head_object(Bucket=bucket, Key=held)
    metadata = {name: value for name, value in head.get("Metadata", {}).items() if name != REVIEW_METADATA}
    metadata["reviewed"] = "approved"
    s3.copy_object(
        Bucket=bucket,
        Key=target,
        CopySource={"Bucket": bucket, "Key": held},
        MetadataDirective="REPLACE",
        Metadata=metadata,
        ContentType=head.get("ContentType", "application/octet-stream"),
        TaggingDirective="REPLACE",
        Tagging="",
    )
    s3.delete_object(Bucket=bucket, Key=held)
    return target


def reject(s3: Any, bucket: str, key: str) -> str:
    """Delete a held output (the upload stays in the input bucket; re-upload a better photo)."""
    held = _held_key(key)
    s3.head_object(Bucket=bucket, Key=held)  # a clear 404 rather than a silent no-op
    s3.delete_object(Bucket=bucket, Key=held)
    return held


def review_tag_of(s3: Any, bucket: str, key: str) -> str | None:
    tags = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    return next((tag["Value"] for tag in tags if tag["Key"] == REVIEW_TAG), None)


# -- events tail ----------------------------------------------------------------------------------


class EventTail:
    """A temporary SQS queue and rule on the stack's bus (every ``cutout`` event); removed on close."""

    def __init__(self, session: Any, bus: str) -> None:
        self._events = session.client("events")
        self._sqs = session.client("sqs")
        self._bus = bus
        suffix = uuid.uuid4().hex[:10]
        self._rule = f"cutout-tail-{suffix}"
        self.queue_url = self._sqs.create_queue(
            QueueName=f"cutout-tail-{suffix}", Attributes={"MessageRetentionPeriod": "3600"}
        )["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        rule_arn = self._events.put_rule(
            Name=self._rule, EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}), State="ENABLED"
        )["RuleArn"]
        self._sqs.set_queue_attributes(
            QueueUrl=self.queue_url,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": arn,
                                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                            }
                        ],
                    }
                )
            },
        )
        self._events.put_targets(Rule=self._rule, EventBusName=bus, Targets=[{"Id": "tail", "Arn": arn}])

    def read(self, wait_seconds: int = 5) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        )
        messages = answer.get("Messages", [])
        if messages:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
        return [json.loads(message["Body"]) for message in messages]

    def follow(
        self, emit: Callable[[dict[str, Any]], None], *, stop: Callable[[], bool], seconds: float | None
    ) -> int:
        count, deadline = 0, None if seconds is None else time.monotonic() + seconds
        while not stop() and (deadline is None or time.monotonic() < deadline):
            for event in self.read(wait_seconds=1 if deadline is not None else 5):
                emit(event)
                count += 1
        return count

    def close(self) -> None:
        try:
            self._events.remove_targets(Rule=self._rule, EventBusName=self._bus, Ids=["tail"])
            self._events.delete_rule(Name=self._rule, EventBusName=self._bus)
        finally:
            self._sqs.delete_queue(QueueUrl=self.queue_url)


def one_line(event: dict[str, Any]) -> str:
    """``time  detail-type  key -> outputs  (reason)`` for a terminal."""
    detail = event.get("detail") or {}
    source = detail.get("source") or {}
    outputs = ", ".join(output.get("key", "?") for output in detail.get("outputs") or [])
    extra = ""
    if "error" in detail:
        extra = f"  [{detail['error'].get('code')}] {detail['error'].get('message')}"
    elif "review" in detail:
        extra = "  held: " + "+".join(detail["review"].get("reasons") or [])
    elif "reason" in detail:
        extra = f"  [{detail['reason'].get('code')}] {detail['reason'].get('message')}"
    subject = f"{source.get('key')} -> {outputs or '-'}" if source else ""
    return f"{event.get('time', '')}  {event.get('detail-type', '?'):<26} {subject}{extra}".rstrip()
