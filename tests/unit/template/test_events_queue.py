"""template.yaml's example consumer of the completion events (parameter EventsQueue): a rule on
source "cutout" sends every event to an SQS queue of its own, which only that rule may send to."""

from __future__ import annotations

from typing import Any

import pytest

from cutout.announcements import SOURCE
from cutout_tools.template import (
    StackContext,
    Template,
    load_template,
    queue_policies,
    queue_settings,
    resolve,
    resource,
    resource_is_created,
)

CONSUMER = ("CompletionEventsQueue", "CompletionEventsQueuePolicy", "CompletionEventsRule")


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _context(template: Template, **overrides: str) -> StackContext:
    return StackContext.from_template(template, overrides, stack_id="arn:aws:cloudformation:x")


@pytest.mark.parametrize(
    ("overrides", "created"),
    [
        ({}, False),  # off by default: a consumer of your own needs no queue of ours
        ({"EventsQueue": "true"}, True),
        ({"EventsQueue": "true", "EventBusName": ""}, False),  # no events, nothing to consume
        ({"EventsQueue": "true", "EventBusName": "shop-events"}, True),
    ],
)
def test_the_consumer_exists_only_when_asked_for_and_there_are_events(
    template: Template, overrides: dict[str, str], created: bool
) -> None:
    # Given the parameters
    context = _context(template, **overrides)
    # When the consumer's resources and outputs are evaluated
    made = {logical_id: resource_is_created(template, logical_id, context) for logical_id in CONSUMER}
    outputs = {
        name: bool(resolve({"Condition": template["Outputs"][name]["Condition"]}, template, context))
        for name in ("EventsQueueUrl", "EventsQueueArn")
    }
    # Then all of them exist together, or none
    assert made == dict.fromkeys(CONSUMER, created)
    assert outputs == {"EventsQueueUrl": created, "EventsQueueArn": created}


def test_the_rule_sends_every_cutout_event_on_the_stacks_bus_to_the_queue(template: Template) -> None:
    # Given the rule
    properties = resource(template, "CompletionEventsRule")["Properties"]
    # When its bus, pattern and targets are read
    targets = properties["Targets"]
    # Then it listens on EventBusName for source "cutout" alone and targets the queue, enabled
    assert properties["EventBusName"] == {"Ref": "EventBusName"}
    assert properties["EventPattern"] == {"source": [SOURCE]}
    assert properties["State"] == "ENABLED"
    assert [target["Arn"] for target in targets] == [{"Fn::GetAtt": ["CompletionEventsQueue", "Arn"]}]


def test_only_the_rule_may_send_to_the_queue_and_only_over_tls(template: Template) -> None:
    # Given the queue's policy, evaluated for a stack with the consumer
    context = _context(template, EventsQueue="true")
    (policy,) = [p for p in queue_policies(template) if p.queue_logical_ids == ("CompletionEventsQueue",)]
    statements: list[dict[str, Any]] = policy.document["Statement"]
    # When its statements are read
    allows = [s for s in statements if s["Effect"] == "Allow"]
    denials = [s for s in statements if s["Effect"] == "Deny"]
    # Then EventBridge may SendMessage from exactly this rule, and plain HTTP is refused
    assert [(s["Principal"], s["Action"]) for s in allows] == [
        ({"Service": "events.amazonaws.com"}, "sqs:SendMessage")
    ]
    assert allows[0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["CompletionEventsRule", "Arn"]}}
    }
    assert [(s["Action"], s["Condition"]) for s in denials] == [
        ("sqs:*", {"Bool": {"aws:SecureTransport": "false"}})
    ]
    assert queue_settings(template, context, "CompletionEventsQueue").sqs_managed_sse is True


def test_the_function_knows_nothing_of_the_consumer(template: Template) -> None:
    # Given the function (its environment and policies) as text
    function = repr(resource(template, "ProcessUploadFunction"))
    # When the consumer's names are looked for in it
    named = [logical_id for logical_id in CONSUMER if logical_id in function]
    # Then none appears: the consumer is a subscriber like any other, and needs no permission of ours
    assert named == []
