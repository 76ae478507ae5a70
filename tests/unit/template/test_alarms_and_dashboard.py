"""The alarms that stay red while a problem lasts, and the dashboard (issue 24, item 5).

CloudWatch is not evaluated locally (moto stores alarms, never evaluates them): what is checked is
each alarm's metric and its ``TreatMissingData`` against CloudWatch's documented meaning of it
(``ignore``: keep the current state; ``notBreaching``: no data is good news), and that the
dashboard's body is JSON naming the metrics the function really emits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cutout.observability import stage_metric_name
from cutout_tools.template import Template, load_template

RETENTION_SECONDS = 1_209_600  # the work queue's and the DLQ's MessageRetentionPeriod


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def alarm(template: Template, logical_id: str) -> dict[str, Any]:
    resource = template["Resources"][logical_id]
    assert resource["Type"] == "AWS::CloudWatch::Alarm"
    properties: dict[str, Any] = resource["Properties"]
    return properties


@pytest.mark.parametrize(
    ("logical_id", "namespace", "metric", "missing"),
    [
        # Emitted only by a scheduled run (a paused pipeline is not invoked): keep the state between runs.
        ("PausedAlarm", "Cutout", "Paused", "ignore"),
        # Emitted on reservations only, none while paused: keep the state, red until a reservation.
        ("BudgetSpentAlarm", "Cutout", "BudgetUsedPercent", "ignore"),
        ("BudgetWarningAlarm", "Cutout", "BudgetUsedPercent", "ignore"),
        # Counts of events: no data means none happened.
        ("PauseFailedAlarm", "Cutout", "PauseFailed", "notBreaching"),
        ("PossiblyBilledTwiceAlarm", "Cutout", "PossiblyBilledTwice", "notBreaching"),
        ("ImagesUnannouncedAlarm", "Cutout", "ImagesUnannounced", "notBreaching"),
        ("FunctionErrorsAlarm", "AWS/Lambda", "Errors", "notBreaching"),
        ("FunctionThrottlesAlarm", "AWS/Lambda", "Throttles", "notBreaching"),
        # An empty queue reports no age.
        ("WorkQueueAgeAlarm", "AWS/SQS", "ApproximateAgeOfOldestMessage", "notBreaching"),
        ("DeadLetterAgeAlarm", "AWS/SQS", "ApproximateAgeOfOldestMessage", "notBreaching"),
    ],
)
def test_each_alarm_watches_its_metric_with_the_missing_data_rule_that_keeps_it_red(
    template: Template, logical_id: str, namespace: str, metric: str, missing: str
) -> None:
    # Given the alarm; When its metric and missing-data rule are read
    properties = alarm(template, logical_id)
    # Then they are the ones the problem needs, and it notifies the alarm topic when one is given
    assert (properties["Namespace"], properties["MetricName"]) == (namespace, metric)
    assert properties["TreatMissingData"] == missing
    assert properties["AlarmActions"] == {
        "Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]
    }


@pytest.mark.parametrize(
    ("logical_id", "queue"), [("WorkQueueAgeAlarm", "WorkQueue"), ("DeadLetterAgeAlarm", "DeadLetterQueue")]
)
def test_queue_age_alarms_fire_days_before_sqs_deletes_a_message(
    template: Template, logical_id: str, queue: str
) -> None:
    # Given a queue-age alarm and its queue's retention
    properties = alarm(template, logical_id)
    retention = int(template["Resources"][queue]["Properties"]["MessageRetentionPeriod"])
    # Then it watches that queue and fires at least 3 days before the retention (and after 1 day)
    assert retention == RETENTION_SECONDS
    assert properties["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert 86_400 < properties["Threshold"] <= retention - 3 * 86_400
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize(
    "logical_id", ["PossiblyBilledTwiceAlarm", "ImagesUnannouncedAlarm", "PauseFailedAlarm"]
)
def test_a_one_off_event_keeps_its_alarm_red_for_a_day(template: Template, logical_id: str) -> None:
    # Given an alarm on a count of one-off events
    properties = alarm(template, logical_id)
    # Then one occurrence in the last 24 hours is enough (1 of 24 hourly periods)
    assert properties["Period"] * properties["EvaluationPeriods"] == 86_400
    assert properties["DatapointsToAlarm"] == 1
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    # And CloudWatch's limit for hourly periods (evaluation range at most 7 days) holds
    assert properties["Period"] * properties["EvaluationPeriods"] <= 7 * 86_400


@pytest.mark.parametrize("logical_id", ["FunctionErrorsAlarm", "FunctionThrottlesAlarm"])
def test_function_alarms_name_the_function(template: Template, logical_id: str) -> None:
    properties = alarm(template, logical_id)
    assert properties["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ProcessUploadFunction"}}]
    assert (properties["Statistic"], properties["Threshold"]) == ("Sum", 0)


def dashboard_body(template: Template) -> dict[str, Any]:
    body, variables = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(variables) == {"WorkQueueName", "DeadLetterQueueName"}
    # ${...} are CloudFormation's substitutions: any string stands in for them to read the JSON
    document: dict[str, Any] = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    return document


def dashboard_metrics(template: Template) -> set[str]:
    """Every metric name the dashboard's widgets plot ("." repeats the row above's value)."""
    names: set[str] = set()
    for widget in dashboard_body(template)["widgets"]:
        for row in widget["properties"]["metrics"]:
            names.add(row[1])
    return names


def test_the_dashboard_plots_what_the_issue_lists(template: Template) -> None:
    # Given the dashboard's widgets
    titles = [widget["properties"]["title"] for widget in dashboard_body(template)["widgets"]]
    names = dashboard_metrics(template)
    # Then: uploads and outcomes per minute, billed calls, budget used, paused, DLQ depth and age,
    # p99 per step, and the function's errors and throttles
    assert {"NumberOfMessagesSent", "ImagesDone", "ImagesFailed", "ImagesReview"} <= names
    assert {"ApiUsage", "BudgetUsedPercent", "Paused", "PauseFailed"} <= names
    assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= names
    assert {"Errors", "Throttles"} <= names
    assert any("per minute" in title for title in titles)
    assert any(title.startswith("p99") for title in titles)


def test_the_dashboard_plots_the_step_timings_the_function_emits(template: Template) -> None:
    # Given the stage names the conductor times (cutout.pipeline: stage("...")) and the dashboard
    emitted = {
        stage_metric_name(stage)
        for stage in (
            "validation",
            "normalisation",
            "paid_call",
            "result_download",
            "variants",
            "put",
            "head",
        )
    }
    # Then each is plotted at p99, with the whole upload's duration
    assert emitted | {"UploadDuration"} <= dashboard_metrics(template)
