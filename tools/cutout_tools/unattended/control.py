"""The operations behind ``cutout resume``, ``cutout budget status`` and ``cutout review``.

Each acts on a stack's resources as its CloudFormation outputs name them (a deployed stack, or the
local stack in moto). No call here reaches the Aidge API: approving a held cut-out is an S3 copy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cutout.announcements import RESUMED, EventBridgePublisher, EventPublisher, pause_announcement
from cutout.quality_gate.review import REVIEW_METADATA, REVIEW_PREFIX, REVIEW_TAG
from cutout.spending import BudgetLimits, BudgetStatus, DynamoDbBudget, LambdaEventSourceSwitch
from cutout.spending.caps import caps_text, parse_caps
from cutout.spending.pause import DynamoDbPauseMarker, PauseMark
from cutout_tools.operations.stack import OperationsError, StackNotFoundError
from cutout_tools.review_decisions import held_key_of, publish_copy, read_held
from cutout_tools.unattended.event_queue import EventQueue, TemporaryEventQueue, local_queue_url

OUTPUTS = {
    "output_bucket": "OutputBucketName",
    "mapping_id": "WorkQueueEventSourceMappingId",
    "table": "IdempotencyTableName",
    "event_bus": "EventBusName",
    "function_name": "ProcessUploadFunctionName",
}
# Outputs a stack may lack (a condition of the template leaves them out): "" when absent.
OPTIONAL_OUTPUTS = {"events_queue_url": "EventsQueueUrl", "budget_parameter": "BudgetParameterName"}
LIVE_ALIAS = "live"  # the alias the work queue's mapping invokes (AutoPublishAlias)


@dataclass(frozen=True, slots=True)
class UnattendedStack:
    output_bucket: str
    mapping_id: str
    table: str
    event_bus: str
    function_name: str
    events_queue_url: str = ""  # the example consumer's queue (EventsQueue "true"), if any
    budget_parameter: str = ""  # the caps the function reads at run time (older stacks: none)


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


def _live_configuration(lambdas: Any, stack: UnattendedStack) -> dict[str, Any]:
    """The configuration of the version the work queue invokes (the alias ``live``), else ``$LATEST``."""
    try:
        answer: dict[str, Any] = lambdas.get_function_configuration(
            FunctionName=stack.function_name, Qualifier=LIVE_ALIAS
        )
    except Exception as error:  # a function deployed without the alias
        if "ResourceNotFound" not in type(error).__name__ and "ResourceNotFound" not in str(error):
            raise
        answer = lambdas.get_function_configuration(FunctionName=stack.function_name)
    return answer


def budget_limits(session: Any, stack: UnattendedStack) -> BudgetLimits:
    """The caps the deployed function uses: its SSM parameter, else the live version's environment."""
    if stack.budget_parameter:
        value = session.client("ssm").get_parameter(Name=stack.budget_parameter)["Parameter"]["Value"]
        return parse_caps(str(value), where=f"SSM parameter {stack.budget_parameter}")
    values = (_live_configuration(session.client("lambda"), stack).get("Environment") or {}).get(
        "Variables"
    ) or {}
    return BudgetLimits(
        daily=int(values.get("DAILY_BUDGET", 0)), monthly=int(values.get("MONTHLY_BUDGET", 0))
    )


def budget_status(session: Any, stack: UnattendedStack) -> tuple[BudgetStatus, str]:
    """The current period's spending and the mapping's state (``Enabled``, ``Disabled``…)."""
    lambdas = session.client("lambda")
    budget = DynamoDbBudget(session.client("dynamodb"), stack.table, budget_limits(session, stack))
    state = LambdaEventSourceSwitch(lambdas, mapping_id=stack.mapping_id).state()
    return budget.status(), state.state


class BudgetNotChangeableError(OperationsError):
    """The stack reads its caps from the environment of a published version: only a deploy changes them."""


def set_budget(
    session: Any, stack: UnattendedStack, *, daily: int | None, monthly: int | None
) -> BudgetLimits:
    """Change the caps the deployed function reads at run time (its SSM parameter): in effect
    within 30 s (each execution environment's cache), without a deploy."""
    if not stack.budget_parameter:
        raise BudgetNotChangeableError(
            "this stack was deployed from a template whose function reads its budget from its "
            "environment: the work queue invokes a published version, which a configuration change "
            "never reaches. Deploy with the new DailyBudget/MonthlyBudget parameters (or deploy this "
            "release's template once; from then on `cutout resume --daily-budget` changes it at run time)"
        )
    current = budget_limits(session, stack)
    limits = BudgetLimits(
        daily=current.daily if daily is None else daily,
        monthly=current.monthly if monthly is None else monthly,
    )
    session.client("ssm").put_parameter(
        Name=stack.budget_parameter, Value=caps_text(limits), Type="String", Overwrite=True
    )
    return limits


@dataclass(frozen=True, slots=True)
class Resumed:
    """What ``cutout resume`` did: ``changed`` if the mapping was paused; ``mark`` is cutout's pause
    marker as it found it (None: disabled by someone else, or not paused at all)."""

    changed: bool
    mark: PauseMark | None


def pause_mark(session: Any, stack: UnattendedStack) -> PauseMark | None:
    """cutout's pause marker (who paused, why, since when), or None."""
    return DynamoDbPauseMarker(session.client("dynamodb"), stack.table).read()


def _report_not_paused(session: Any) -> None:
    """``Paused`` = 0 (what a scheduled run would report), so the alarm clears now, not at 00:05 UTC.
    Best effort: an operator without ``cloudwatch:PutMetricData`` still resumes."""
    with contextlib.suppress(Exception):  # the alarm then clears at the next scheduled run
        session.client("cloudwatch").put_metric_data(
            Namespace="Cutout",
            MetricData=[
                {
                    "MetricName": "Paused",
                    "Dimensions": [{"Name": "service", "Value": "cutout"}],
                    "Value": 0,
                    "Unit": "Count",
                }
            ],
        )


def resume(session: Any, stack: UnattendedStack, *, by: str = "cutout resume") -> Resumed:
    """Enable the work queue's mapping again, whoever paused it (the schedule resumes only cutout's
    own pauses; an operator forces), remove the pause marker; announces ``Cutout Resumed``."""
    marker = DynamoDbPauseMarker(session.client("dynamodb"), stack.table)
    mark = marker.read()
    switch = LambdaEventSourceSwitch(session.client("lambda"), mapping_id=stack.mapping_id)
    changed = switch.enable()
    marker.clear()
    _report_not_paused(session)
    if changed and stack.event_bus:
        announcement = pause_announcement(
            RESUMED, reason_code="resumed", message=f"The pipeline was resumed by {by}.", by=by
        )
        EventBridgePublisher(session.client("events"), stack.event_bus).publish([announcement])
    return Resumed(changed=changed, mark=mark)


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
