"""The operations behind ``cutout resume``, ``cutout budget status`` and ``cutout review``.

Each acts on a stack's resources as its CloudFormation outputs name them (a deployed stack, or the
local stack in moto). No call here reaches the Aidge API: approving a held cut-out is an S3 copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cutout.announcements import RESUMED, EventBridgePublisher, EventPublisher, pause_announcement
from cutout.quality_gate.review import REVIEW_METADATA, REVIEW_PREFIX, REVIEW_TAG
from cutout.spending import BudgetLimits, BudgetStatus, DynamoDbBudget, LambdaEventSourceSwitch
from cutout_tools.operations.stack import OperationsError, StackNotFoundError
from cutout_tools.unattended.event_queue import EventQueue, TemporaryEventQueue, local_queue_url
from cutout_tools.unattended.review_decisions import held_key_of, publish_copy, read_held

OUTPUTS = {
    "output_bucket": "OutputBucketName",
    "mapping_id": "WorkQueueEventSourceMappingId",
    "table": "IdempotencyTableName",
    "event_bus": "EventBusName",
    "function_name": "ProcessUploadFunctionName",
}
# Outputs a stack may lack (a condition of the template leaves them out): "" when absent.
OPTIONAL_OUTPUTS = {"events_queue_url": "EventsQueueUrl"}


@dataclass(frozen=True, slots=True)
class UnattendedStack:
    output_bucket: str
    mapping_id: str
    table: str
    event_bus: str
    function_name: str
    events_queue_url: str = ""  # the example consumer's queue (EventsQueue "true"), if any


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
    return UnattendedStack(
        **{field: outputs[name] for field, name in OUTPUTS.items()},
        **{field: outputs.get(name, "") for field, name in OPTIONAL_OUTPUTS.items()},
    )


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


def approve(s3: Any, bucket: str, key: str) -> str:
    """Publish one held output: copy it to its published key (metadata kept, review marks dropped),
    then delete the held copy. No API call: the cut-out was paid for once already. (``cutout review
    approve`` decides for the whole upload and announces it: ``review_decisions.approve_upload``.)"""
    held = read_held(s3, bucket, held_key_of(key))
    target = publish_copy(s3, bucket, held)
    s3.delete_object(Bucket=bucket, Key=held.key)
    return target


def reject(s3: Any, bucket: str, key: str) -> str:
    """Delete one held output (the upload stays in the input bucket; re-upload a better photo)."""
    held = held_key_of(key)
    s3.head_object(Bucket=bucket, Key=held)  # a clear 404 rather than a silent no-op
    s3.delete_object(Bucket=bucket, Key=held)
    return held


def publisher_for(session: Any, stack: UnattendedStack) -> EventPublisher | None:
    """What announces an operator's decision: the stack's bus, or nothing when events are off."""
    return EventBridgePublisher(session.client("events"), stack.event_bus) if stack.event_bus else None


def review_tag_of(s3: Any, bucket: str, key: str) -> str | None:
    tags = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    return next((tag["Value"] for tag in tags if tag["Key"] == REVIEW_TAG), None)


# -- events tail ----------------------------------------------------------------------------------


def event_queue(session: Any, stack: UnattendedStack, *, temporary: bool = False) -> EventQueue:
    """The stack's events queue (output ``EventsQueueUrl``), or with ``temporary`` (or a stack
    without one) a temporary rule and queue on its bus, removed on close."""
    if stack.events_queue_url and not temporary:
        sqs = session.client("sqs")
        return EventQueue(sqs, local_queue_url(sqs, stack.events_queue_url))
    return TemporaryEventQueue(session, stack.event_bus)


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
