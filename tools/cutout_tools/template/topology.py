"""The parts of the topology the local stack plays itself, read from the template.

moto runs no Lambda, applies no bucket notifications and no queue policies, so the local stack needs
from the template: the function's environment, the SQS event source's batching and concurrency, the
work queue's visibility timeout and redrive, the input bucket's notifications and the queue policies.
Reading them here keeps ``template.yaml`` their one source: change it, and the local stack follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutout_tools.template.errors import TemplateError
from cutout_tools.template.intrinsics import StackContext, referenced_logical_id, resolve
from cutout_tools.template.loader import Template

FUNCTION_LOGICAL_ID = "ProcessUploadFunction"
INPUT_BUCKET_LOGICAL_ID = "InputBucket"
OUTPUT_BUCKET_LOGICAL_ID = "OutputBucket"
WORK_QUEUE_LOGICAL_ID = "WorkQueue"
DEAD_LETTER_QUEUE_LOGICAL_ID = "DeadLetterQueue"

SAM_FUNCTION = "AWS::Serverless::Function"


@dataclass(frozen=True, slots=True)
class SqsEventSource:
    """A function's SQS event: what Lambda's event source mapping (or the local poller) does."""

    event_name: str
    queue_logical_id: str
    batch_size: int
    maximum_batching_window_seconds: int
    maximum_concurrency: int | None
    function_response_types: tuple[str, ...]
    enabled: bool

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True, slots=True)
class Redrive:
    dead_letter_queue_logical_id: str
    max_receive_count: int


@dataclass(frozen=True, slots=True)
class QueueSettings:
    logical_id: str
    visibility_timeout_seconds: int
    message_retention_seconds: int | None
    maximum_message_size: int | None
    sqs_managed_sse: bool
    redrive: Redrive | None


@dataclass(frozen=True, slots=True)
class QueueNotification:
    """One entry of a bucket's ``NotificationConfiguration.QueueConfigurations``."""

    queue_logical_id: str
    event: str
    filter_rules: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    logical_id: str
    queue_logical_ids: tuple[str, ...]
    document: dict[str, Any]


def resource(template: Template, logical_id: str, resource_type: str | None = None) -> dict[str, Any]:
    """The resource ``logical_id`` (checked to be of ``resource_type`` if given)."""
    found = template["Resources"].get(logical_id)
    if not isinstance(found, dict):
        raise TemplateError(f"the template has no resource {logical_id}")
    if resource_type is not None and found.get("Type") != resource_type:
        raise TemplateError(f"{logical_id} is a {found.get('Type')}, not a {resource_type}")
    return found


def _properties(template: Template, logical_id: str, resource_type: str | None = None) -> dict[str, Any]:
    properties = resource(template, logical_id, resource_type).get("Properties") or {}
    if not isinstance(properties, dict):
        raise TemplateError(f"{logical_id}.Properties is not a mapping")
    return properties


def function_environment_variables(
    template: Template, function_logical_id: str = FUNCTION_LOGICAL_ID
) -> dict[str, Any]:
    """The function's environment as written (intrinsics not evaluated), ``Globals`` merged in as SAM does."""
    global_variables = (
        ((template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables", {})
    )
    own_variables = (
        _properties(template, function_logical_id, SAM_FUNCTION).get("Environment", {}).get("Variables", {})
    )
    return {**global_variables, **own_variables}


def resolved_function_environment(
    template: Template, context: StackContext, function_logical_id: str = FUNCTION_LOGICAL_ID
) -> dict[str, str]:
    """The function's environment with every value evaluated (needs a resource resolver for ``!Ref``s)."""
    variables = resolve(function_environment_variables(template, function_logical_id), template, context)
    return {name: str(value) for name, value in variables.items()}


def _as_int(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TemplateError(f"{what} is {value!r}, not a whole number") from None


def _as_bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def sqs_event_source(
    template: Template, context: StackContext, function_logical_id: str = FUNCTION_LOGICAL_ID
) -> SqsEventSource:
    """The function's one SQS event, its numbers evaluated with ``context``'s parameters.

    SAM's defaults apply where a property is absent (batch size 10, no batching window, enabled).
    """
    events = _properties(template, function_logical_id, SAM_FUNCTION).get("Events") or {}
    sqs_events = [(name, event) for name, event in events.items() if event.get("Type") == "SQS"]
    if len(sqs_events) != 1:
        raise TemplateError(f"{function_logical_id} has {len(sqs_events)} SQS events; exactly one expected")
    event_name, event = sqs_events[0]
    properties = event.get("Properties") or {}
    evaluated = resolve(
        {key: value for key, value in properties.items() if key != "Queue"}, template, context
    )
    concurrency = (evaluated.get("ScalingConfig") or {}).get("MaximumConcurrency")
    return SqsEventSource(
        event_name=event_name,
        queue_logical_id=referenced_logical_id(properties.get("Queue")),
        batch_size=_as_int(evaluated.get("BatchSize", 10), "BatchSize"),
        maximum_batching_window_seconds=_as_int(
            evaluated.get("MaximumBatchingWindowInSeconds", 0), "MaximumBatchingWindowInSeconds"
        ),
        maximum_concurrency=None if concurrency is None else _as_int(concurrency, "MaximumConcurrency"),
        function_response_types=tuple(evaluated.get("FunctionResponseTypes") or ()),
        enabled=_as_bool(evaluated.get("Enabled", True)),
    )


def queue_settings(
    template: Template, context: StackContext, queue_logical_id: str = WORK_QUEUE_LOGICAL_ID
) -> QueueSettings:
    """A queue's timing, size, encryption and redrive, evaluated with ``context``'s parameters."""
    properties = _properties(template, queue_logical_id, "AWS::SQS::Queue")
    redrive_policy = properties.get("RedrivePolicy")
    evaluated = resolve(
        {key: value for key, value in properties.items() if key != "RedrivePolicy"}, template, context
    )
    redrive = None
    if redrive_policy is not None:
        redrive = Redrive(
            dead_letter_queue_logical_id=referenced_logical_id(redrive_policy.get("deadLetterTargetArn")),
            max_receive_count=_as_int(
                resolve(redrive_policy.get("maxReceiveCount"), template, context), "maxReceiveCount"
            ),
        )
    retention = evaluated.get("MessageRetentionPeriod")
    size = evaluated.get("MaximumMessageSize")
    return QueueSettings(
        logical_id=queue_logical_id,
        visibility_timeout_seconds=_as_int(evaluated.get("VisibilityTimeout", 30), "VisibilityTimeout"),
        message_retention_seconds=None if retention is None else _as_int(retention, "MessageRetentionPeriod"),
        maximum_message_size=None if size is None else _as_int(size, "MaximumMessageSize"),
        sqs_managed_sse=_as_bool(evaluated.get("SqsManagedSseEnabled", False)),
        redrive=redrive,
    )


def resource_is_created(template: Template, logical_id: str, context: StackContext) -> bool:
    """Whether the resource's ``Condition`` (if any) holds for ``context``'s parameters."""
    condition = resource(template, logical_id).get("Condition")
    if condition is None:
        return True
    return bool(resolve({"Condition": condition}, template, context))


def bucket_queue_notifications(
    template: Template, bucket_logical_id: str = INPUT_BUCKET_LOGICAL_ID, context: StackContext | None = None
) -> tuple[QueueNotification, ...]:
    """The queues a bucket notifies, with the event and key filter of each.

    A key filter written with intrinsics (``!If`` on a parameter) needs ``context`` to be read.
    """
    configuration = _properties(template, bucket_logical_id, "AWS::S3::Bucket").get(
        "NotificationConfiguration"
    )
    if not configuration:
        return ()
    other_targets = sorted(set(configuration) - {"QueueConfigurations"})
    if other_targets:
        raise TemplateError(f"{bucket_logical_id} notifies {other_targets}: only queues are supported")
    notifications = []
    for entry in configuration.get("QueueConfigurations") or []:
        key_filter = entry.get("Filter")
        if context is not None and key_filter is not None:
            key_filter = resolve(key_filter, template, context)
        rules = ((key_filter or {}).get("S3Key") or {}).get("Rules") or []
        notifications.append(
            QueueNotification(
                queue_logical_id=referenced_logical_id(entry.get("Queue")),
                event=str(entry.get("Event")),
                filter_rules=tuple((str(rule["Name"]), str(rule["Value"])) for rule in rules),
            )
        )
    return tuple(notifications)


def bucket_notification_configuration(
    template: Template, context: StackContext, bucket_logical_id: str = INPUT_BUCKET_LOGICAL_ID
) -> dict[str, Any]:
    """The bucket's notifications in boto3's ``put_bucket_notification_configuration`` shape.

    Queue ARNs come from ``context``'s resource resolver (``(queue_logical_id, "Arn")``).
    """
    queue_configurations = []
    for notification in bucket_queue_notifications(template, bucket_logical_id, context):
        configuration: dict[str, Any] = {
            "QueueArn": resolve({"Fn::GetAtt": [notification.queue_logical_id, "Arn"]}, template, context),
            "Events": [notification.event],
        }
        if notification.filter_rules:
            configuration["Filter"] = {
                "Key": {
                    "FilterRules": [
                        {"Name": name, "Value": value} for name, value in notification.filter_rules
                    ]
                }
            }
        queue_configurations.append(configuration)
    return {"QueueConfigurations": queue_configurations}


def queue_policies(template: Template, context: StackContext | None = None) -> tuple[QueuePolicy, ...]:
    """Every ``AWS::SQS::QueuePolicy``: its queues and its document, evaluated if ``context`` is given
    (then only the policies whose ``Condition`` holds for its parameters)."""
    policies = []
    for logical_id, declared in template["Resources"].items():
        if declared.get("Type") != "AWS::SQS::QueuePolicy":
            continue
        if context is not None and not resource_is_created(template, logical_id, context):
            continue
        properties = declared.get("Properties") or {}
        document = properties.get("PolicyDocument") or {}
        policies.append(
            QueuePolicy(
                logical_id=logical_id,
                queue_logical_ids=tuple(
                    referenced_logical_id(queue) for queue in properties.get("Queues") or []
                ),
                document=document if context is None else resolve(document, template, context),
            )
        )
    return tuple(policies)
