"""Pausing that cannot fail into the DLQ, and the pause marker the schedule resumes by (issue 24).

The controller alone with fakes; the handler with the conductor harness; the Lambda adapter with
botocore's Stubber answering the documented error shapes of ``UpdateEventSourceMapping``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from cutout.entrypoint import Pipeline
from cutout.spending import (
    BudgetExhausted,
    LambdaEventSourceSwitch,
    PauseLatch,
    PipelinePaused,
    SpendingGuard,
)
from cutout.spending.pause import PauseController, already_switching
from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext
from tests.fakes import (
    FakeEventSourceSwitch,
    InMemoryBudget,
    InMemoryPauseMarker,
    RecordingMessageVisibility,
    RecordingPauseMetrics,
)
from tests.handler import load_lambda_handler
from tests.unit.pipeline.harness import build_harness
from tests.unit.pipeline.test_handler_events import store_objects_named_in

LoadEvent = Callable[[str], Any]
MAPPING_UUID = "14e0db71-5d35-4eb5-b481-8945cf9d10c2"
SPENT = BudgetExhausted("The daily budget of 1 units is spent.")


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateEventSourceMapping")


@pytest.fixture(scope="module")
def lambda_handler() -> Callable[..., dict[str, Any]]:
    return load_lambda_handler()


# -- the controller ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException"),
        client_error("ThrottlingException"),
        client_error("ParameterNotFound"),
        RuntimeError("a bug in the switch"),
    ],
    ids=["iam", "throttled", "ssm-parameter-gone", "bug"],
)
def test_a_pause_that_cannot_switch_the_mapping_is_counted_and_does_not_raise(error: BaseException) -> None:
    # Given a switch whose disable fails
    metrics = RecordingPauseMetrics()
    pauser = PauseController(FakeEventSourceSwitch(fail_with=error), metrics=metrics)
    # When a record pauses
    changed = pauser.pause(SPENT)
    # Then nothing is raised (the record stays paused), and PauseFailed is counted once
    assert changed is False
    assert metrics.pause_failures == 1


@pytest.mark.parametrize("code", ["ResourceInUseException", "ResourceConflictException"])
def test_a_mapping_being_switched_by_another_environment_is_already_switching_not_a_failure(
    code: str,
) -> None:
    # Given a switch Lambda answers "in use" (another environment is disabling it at this moment)
    metrics = RecordingPauseMetrics()
    pauser = PauseController(FakeEventSourceSwitch(fail_with=client_error(code)), metrics=metrics)
    # When a record pauses
    changed = pauser.pause(SPENT)
    # Then it is not a failure: nothing counted, nothing raised
    assert (changed, metrics.pause_failures) == (False, 0)
    assert already_switching(client_error(code))
    assert not already_switching(client_error("AccessDeniedException"))


def test_the_lambda_adapter_raises_lambdas_own_conflict_shape_which_the_controller_absorbs() -> None:
    # Given the real Lambda client stubbed with the documented answers: Enabled, then a 409 conflict
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    metrics = RecordingPauseMetrics()
    with Stubber(client) as stub:
        for _ in range(2):  # the controller's state check, then the switch's own
            stub.add_response(
                "get_event_source_mapping", {"UUID": MAPPING_UUID, "State": "Enabled"}, {"UUID": MAPPING_UUID}
            )
        stub.add_client_error(
            "update_event_source_mapping",
            service_error_code="ResourceConflictException",
            http_status_code=409,
            expected_params={"UUID": MAPPING_UUID, "Enabled": False},
        )
        pauser = PauseController(LambdaEventSourceSwitch(client, mapping_id=MAPPING_UUID), metrics=metrics)
        # When a record pauses
        changed = pauser.pause(SPENT)
        # Then the conflict is "already switching": no raise, no PauseFailed
        assert (changed, metrics.pause_failures) == (False, 0)
        stub.assert_no_pending_responses()


def test_cutout_writes_its_marker_before_disabling_and_not_over_an_operators_pause() -> None:
    # Given an enabled mapping and a marker store
    switch, marker = FakeEventSourceSwitch(), InMemoryPauseMarker()
    moment = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    pauser = PauseController(switch, marker=marker, now=lambda: moment)
    # When cutout pauses
    assert pauser.pause(SPENT) is True
    # Then the marker says cutout paused, why and when
    assert (marker.mark.by, marker.mark.reason_code, marker.mark.paused_at) == (
        "cutout",
        "budget_exhausted",
        moment,
    )
    # And given a mapping an operator disabled (no marker), a pause neither marks nor switches it
    operator_switch, operator_marker = FakeEventSourceSwitch(), InMemoryPauseMarker()
    operator_switch.enabled = False
    assert PauseController(operator_switch, marker=operator_marker).pause(SPENT) is False
    assert operator_marker.mark is None


def test_a_marker_that_cannot_be_written_still_pauses_and_is_counted() -> None:
    # Given a marker store that fails
    switch, metrics = FakeEventSourceSwitch(), RecordingPauseMetrics()
    pauser = PauseController(
        switch, marker=InMemoryPauseMarker(client_error("ProvisionedThroughputExceeded")), metrics=metrics
    )
    # When a record pauses
    changed = pauser.pause(SPENT)
    # Then the mapping is disabled anyway (we must not pay), and the failure is counted
    assert changed is True
    assert not switch.enabled
    assert metrics.pause_failures == 1


def test_a_stale_latch_after_a_manual_resume_does_not_disable_the_mapping_again() -> None:
    # Given a warm environment that paused a moment ago (its latch is set) and an operator who resumed
    latch = PauseLatch(hold_seconds=60, clock=lambda: 0.0)
    guard = SpendingGuard(InMemoryBudget(daily=10), latch=latch)
    latch.set(SPENT)
    switch = FakeEventSourceSwitch()  # enabled again by `cutout resume`
    pauser = PauseController(switch, marker=InMemoryPauseMarker(), latch=latch)
    # When the next record meets the latch
    with pytest.raises(PipelinePaused) as paused:
        guard.reserve()
    assert paused.value.latched
    pauser.pause_for(paused.value)
    # Then the mapping stays enabled and the latch is cleared: the next reservation asks the budget
    assert switch.enabled
    assert switch.disables == 0
    assert guard.reserve() is not None


def test_a_fresh_refusal_pauses_even_while_a_latch_would_not() -> None:
    # Given an enabled mapping and a fresh refusal (not from the latch)
    switch = FakeEventSourceSwitch()
    pauser = PauseController(switch, marker=InMemoryPauseMarker())
    # When it pauses
    pauser.pause_for(PipelinePaused(SPENT))
    # Then the mapping is disabled
    assert not switch.enabled


# -- the handler: a failed pause never reaches the DLQ -----------------------------------------------


def test_when_pausing_fails_the_batch_still_waits_and_the_last_receive_is_requeued_not_dead_lettered(
    lambda_handler: Any, load_event: LoadEvent
) -> None:
    # Given a spent budget, a switch that fails (IAM), and one message on its last receive, one not
    event = load_event("sqs-s3-put")
    last = copy.deepcopy(event["Records"][0])
    last["messageId"], last["attributes"]["ApproximateReceiveCount"] = "last-one", "5"
    event["Records"][0]["attributes"]["ApproximateReceiveCount"] = "2"
    event["Records"].append(last)
    harness = build_harness(spending=SpendingGuard(InMemoryBudget(daily=1)), RECORD_CONCURRENCY="1")
    harness.spending.budget.used = 1  # type: ignore[attr-defined]
    store_objects_named_in(harness, event)
    requeued: list[str] = []
    metrics, visibility = RecordingPauseMetrics(), RecordingMessageVisibility()
    pauser = PauseController(
        FakeEventSourceSwitch(fail_with=client_error("AccessDeniedException")),
        None,
        requeued.append,
        marker=InMemoryPauseMarker(),
        metrics=metrics,
    )
    pipeline = Pipeline(
        harness.settings,
        harness.processor,
        harness.dlq,
        message_visibility=visibility,
        pauser=pauser,
        spending=harness.spending,
    )
    # When the handler runs
    response = lambda_handler(event, LocalLambdaContext(), pipeline=pipeline)
    # Then nothing is on the DLQ; the last receive was sent again and acknowledged; the other one
    # waits for the schedule's first step (paused, not failing), and PauseFailed was counted
    assert harness.dlq_records() == []
    assert requeued == [last["body"]]
    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [
        event["Records"][0]["messageId"]
    ]
    (redelivery,) = visibility.redeliveries
    first_step = harness.settings.retry_backoff_seconds[0]
    assert redelivery.delay_seconds <= first_step * (1 + harness.settings.retry_jitter)
    assert metrics.pause_failures >= 1


# -- the schedule: resume only cutout's pauses, report Paused -----------------------------------------


def run_schedule(
    lambda_handler: Any, pauser: PauseController, budget: InMemoryBudget, by: str = "schedule"
) -> dict[str, Any]:
    harness = build_harness(spending=SpendingGuard(budget))
    pipeline = Pipeline(
        harness.settings, harness.processor, harness.dlq, pauser=pauser, spending=harness.spending
    )
    return dict(lambda_handler({"cutout": "resume", "by": by}, LocalLambdaContext(), pipeline=pipeline))


def test_the_schedule_resumes_a_pause_cutout_made_and_removes_its_marker(lambda_handler: Any) -> None:
    # Given a pause cutout made (marker written), and a budget with room again
    switch, marker, metrics = FakeEventSourceSwitch(), InMemoryPauseMarker(), RecordingPauseMetrics()
    pauser = PauseController(switch, marker=marker, metrics=metrics)
    pauser.pause(SPENT)
    # When the schedule runs
    answer = run_schedule(lambda_handler, pauser, InMemoryBudget(daily=5))
    # Then the mapping is enabled, the marker gone, Paused reported 1 by the pause, then 0
    assert answer["resumed"] is True
    assert switch.enabled
    assert marker.mark is None
    assert metrics.paused_values == [1, 0]


def test_the_schedule_leaves_an_operators_pause_alone_and_reports_it_paused(lambda_handler: Any) -> None:
    # Given a mapping an operator disabled (no marker), and a budget with room
    switch, marker, metrics = FakeEventSourceSwitch(), InMemoryPauseMarker(), RecordingPauseMetrics()
    switch.enabled = False
    pauser = PauseController(switch, marker=marker, metrics=metrics)
    # When the schedule runs
    answer = run_schedule(lambda_handler, pauser, InMemoryBudget(daily=5))
    # Then it stays disabled and Paused is 1 (the alarm stays red)
    assert answer["resumed"] is False
    assert not switch.enabled
    assert "not by cutout" in answer["reason"]
    assert metrics.paused_values == [1]
    # When an operator forces it (the resume event from `cutout resume`, by someone other than the schedule)
    forced = run_schedule(lambda_handler, pauser, InMemoryBudget(daily=5), by="cutout resume")
    # Then it is enabled
    assert forced["resumed"] is True
    assert switch.enabled


def test_each_schedule_run_while_the_budget_stays_spent_reports_paused(lambda_handler: Any) -> None:
    # Given cutout's pause and a monthly budget still spent
    switch, marker, metrics = FakeEventSourceSwitch(), InMemoryPauseMarker(), RecordingPauseMetrics()
    pauser = PauseController(switch, marker=marker, metrics=metrics)
    pauser.pause(SPENT)
    budget = InMemoryBudget(monthly=2)
    budget.used = 2
    # When the schedule runs three days in a row
    for _ in range(3):
        run_schedule(lambda_handler, pauser, budget)
    # Then it stays paused, Paused is 1 from the pause and from each run, the marker is still there
    assert not switch.enabled
    assert metrics.paused_values == [1, 1, 1, 1]
    assert marker.mark is not None


def test_a_schedule_run_on_a_running_pipeline_reports_not_paused(lambda_handler: Any) -> None:
    # Given an enabled mapping
    metrics = RecordingPauseMetrics()
    pauser = PauseController(FakeEventSourceSwitch(), marker=InMemoryPauseMarker(), metrics=metrics)
    # When the schedule runs
    answer = run_schedule(lambda_handler, pauser, InMemoryBudget(daily=5))
    # Then nothing changes and Paused is 0
    assert answer["resumed"] is False
    assert metrics.paused_values == [0]
