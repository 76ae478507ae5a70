"""The event source's concurrency while the API throttles: halved, never below Lambda's 2, and
brought back up to what was deployed when the API answers again."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from cutout.redelivery.concurrency import (
    RECHECK_SECONDS,
    ConcurrencyGovernor,
    LambdaMappingConcurrency,
    next_concurrency,
)


@pytest.mark.parametrize("ceiling", [2, 3, 5, 10, 1000])
def test_the_policy_over_every_value_stays_within_two_and_the_ceiling(ceiling: int) -> None:
    for current in range(1, ceiling + 1):
        lowered = next_concurrency(current, ceiling=ceiling, rate_limited=True)
        raised = next_concurrency(current, ceiling=ceiling, rate_limited=False)
        assert 2 <= lowered <= max(2, current // 2)
        assert lowered == max(2, current // 2)
        assert raised == min(ceiling, max(2, current * 2))
        assert raised >= current


class Mapping:
    def __init__(self, value: int | None, fail: BaseException | None = None) -> None:
        self.value, self.fail, self.sets, self.reads = value, fail, [], 0

    def current(self) -> int | None:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        return self.value

    def set(self, value: int) -> None:
        self.sets.append(value)
        self.value = value


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttled_batches_halve_it_once_per_cooldown_and_answers_bring_it_back() -> None:
    # Given a mapping deployed at 16, and a 60 s cooldown
    mapping, clock = Mapping(16), Clock()
    governor = ConcurrencyGovernor(mapping, ceiling=16, cooldown_seconds=60, clock=clock)
    # When batches keep being throttled, one every 30 s
    for _ in range(8):
        governor.after_batch(rate_limited=3, answered=7)
        clock.now += 30
    # Then it was halved every 60 s, down to Lambda's minimum and no further
    assert mapping.sets == [8, 4, 2]
    # When batches go through again
    for _ in range(8):
        governor.after_batch(rate_limited=0, answered=10)
        clock.now += 30
    # Then it doubles back to what was deployed, and then stops looking
    assert mapping.sets == [8, 4, 2, 4, 8, 16]
    reads = mapping.reads
    governor.after_batch(rate_limited=0, answered=10)
    assert mapping.reads == reads
    # Except now and then: another environment may have lowered it and ended; the lowered value
    # holds a cooldown from when this environment first sees it, then it is raised
    mapping.value = 4
    clock.now += RECHECK_SECONDS
    governor.after_batch(rate_limited=0, answered=10)
    assert mapping.sets[-1] == 16
    clock.now += 60
    governor.after_batch(rate_limited=0, answered=10)
    assert mapping.sets[-1] == 8


def test_a_lowering_by_another_environment_is_not_undone_before_a_cooldown() -> None:
    # Given an environment raising the concurrency back after the rate limit (deployed at 16, a 60 s
    # cooldown: lowered to 8 then 4, raised to 8 at 120 s), and another one of the same function
    mapping, clock = Mapping(16), Clock()
    raising = ConcurrencyGovernor(mapping, ceiling=16, cooldown_seconds=60, clock=clock)
    other = ConcurrencyGovernor(mapping, ceiling=16, cooldown_seconds=60, clock=clock)
    for rate_limited in (1, 1, 0):
        raising.after_batch(rate_limited=rate_limited, answered=10 - rate_limited)
        clock.now += 60
    assert mapping.sets == [8, 4, 8]
    # When the other one's batch meets the rate limit (it lowers it to 4), and a while later the
    # first one's batch goes through, past its own cooldown
    other.after_batch(rate_limited=2, answered=8)
    clock.now += 1
    raising.after_batch(rate_limited=0, answered=10)
    # Then the lowering stands: the first one only takes note of it
    assert mapping.sets == [8, 4, 8, 4]
    # When its batches still go through a cooldown after it saw it (59 s: not yet; 60 s: then)
    clock.now += 59
    raising.after_batch(rate_limited=0, answered=10)
    assert mapping.sets == [8, 4, 8, 4]
    clock.now += 1
    raising.after_batch(rate_limited=0, answered=10)
    # Then it raises it again
    assert mapping.sets == [8, 4, 8, 4, 8]


def test_a_batch_that_met_neither_changes_nothing_and_a_failure_to_change_never_fails_the_batch() -> None:
    # Given a governor whose mapping cannot be read
    mapping = Mapping(5, fail=RuntimeError("AccessDenied"))
    governor = ConcurrencyGovernor(mapping, ceiling=5, cooldown_seconds=0)
    # When a batch of nothing, and a throttled batch, are reported
    assert governor.after_batch(rate_limited=0, answered=0) is None
    assert mapping.reads == 0
    # Then no exception escapes, and nothing is changed
    assert governor.after_batch(rate_limited=2, answered=0) is None
    assert mapping.sets == []


def test_a_mapping_with_no_cap_is_taken_as_deployed() -> None:
    mapping = Mapping(None)
    change = ConcurrencyGovernor(mapping, ceiling=10, cooldown_seconds=0).after_batch(
        rate_limited=1, answered=0
    )
    assert change is not None
    assert (change.before, change.after) == (10, 5)


@pytest.mark.parametrize("ceiling", [1, 1001])
def test_a_deployed_value_lambda_would_refuse_is_refused_at_start(ceiling: int) -> None:
    with pytest.raises(ValueError, match=r"2\.\.1000"):
        ConcurrencyGovernor(Mapping(5), ceiling=ceiling)


class LambdaClient:
    def __init__(self, error_code: str | None = None) -> None:
        self.error_code, self.updates = error_code, []

    def get_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        return {"UUID": kwargs["UUID"], "ScalingConfig": {"MaximumConcurrency": 7}}

    def update_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        self.updates.append(kwargs)
        if self.error_code:
            raise ClientError(
                {"Error": {"Code": self.error_code, "Message": "x"}}, "UpdateEventSourceMapping"
            )
        return {}


def test_the_lambda_adapter_reads_and_sets_the_scaling_config() -> None:
    client = LambdaClient()
    adapter = LambdaMappingConcurrency(client, uuid=lambda: "uuid-1")
    assert adapter.current() == 7
    adapter.set(3)
    assert client.updates == [{"UUID": "uuid-1", "ScalingConfig": {"MaximumConcurrency": 3}}]


@pytest.mark.parametrize("code", ["ResourceInUseException", "ResourceConflictException"])
def test_another_environment_changing_it_at_the_same_time_is_not_an_error(code: str) -> None:
    LambdaMappingConcurrency(LambdaClient(code), uuid=lambda: "u").set(3)


def test_any_other_refusal_is_raised_to_the_governor() -> None:
    with pytest.raises(ClientError):
        LambdaMappingConcurrency(LambdaClient("AccessDeniedException"), uuid=lambda: "u").set(3)
