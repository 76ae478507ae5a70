"""The budget caps from both sides: the last unit under a cap is spent, the first over it pauses.

The DynamoDB ledger runs on moto in this process (``mock_aws``: no server, no socket), whose
conditional updates evaluate the ledger's real condition expressions. Held over a range of daily
and monthly caps and units per call with Hypothesis.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cutout.spending import BudgetExhausted, BudgetLimits, DynamoDbBudget
from tests.moto_dynamodb import in_process_dynamodb
from tests.moto_dynamodb import new_table as new_dynamodb_table

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with in_process_dynamodb(monkeypatch) as client:
        yield client


def _table(client: Any) -> str:
    return new_dynamodb_table(client, "budget")


def _on(day: int) -> datetime:
    return datetime(2026, 12, day, 12, 0, tzinfo=UTC)


def _spend_until_refused(budget: DynamoDbBudget, units: int, most: int = 60) -> int:
    for granted in range(most):
        try:
            budget.reserve(units)
        except BudgetExhausted:
            return granted
    raise AssertionError("the budget never refused")


@PROPERTY
@given(daily=st.integers(0, 12), monthly=st.integers(0, 12), units=st.integers(1, 3))
def test_reservations_stop_exactly_at_the_tighter_cap(
    dynamodb: Any, daily: int, monthly: int, units: int
) -> None:
    # Given caps (0: none for that period, not both) and a cost per call
    assume(daily > 0 or monthly > 0)
    caps = [cap for cap in (daily, monthly) if cap > 0]
    budget = DynamoDbBudget(
        dynamodb, _table(dynamodb), BudgetLimits(daily=daily, monthly=monthly), now=lambda: _on(5)
    )
    # When calls reserve until one is refused
    granted = _spend_until_refused(budget, units)
    # Then every call that fits under both caps was granted, the next one was not, and nothing went over
    assert granted == min(caps) // units
    status = budget.status()
    assert status.day_used == granted * units
    assert status.day_used <= min(caps)
    assert status.remaining is not None
    assert status.remaining < units


@PROPERTY
@given(cap=st.integers(1, 10), units=st.integers(1, 12))
def test_a_call_costing_more_than_a_whole_cap_is_refused_without_writing(
    dynamodb: Any, cap: int, units: int
) -> None:
    # Given a cap and a call that costs more, exactly as much, or less
    budget = DynamoDbBudget(dynamodb, _table(dynamodb), BudgetLimits(daily=cap), now=lambda: _on(5))
    # When it reserves
    try:
        reservation = budget.reserve(units)
    except BudgetExhausted:
        reservation = None
    # Then it is granted exactly when it fits the cap, and a refusal writes nothing
    assert (reservation is not None) == (units <= cap)
    assert budget.status().day_used == (units if units <= cap else 0)


def test_giving_back_one_call_under_a_spent_cap_makes_room_for_exactly_one(dynamodb: Any) -> None:
    # Given a daily cap of 3 spent to the last unit
    budget = DynamoDbBudget(dynamodb, _table(dynamodb), BudgetLimits(daily=3), now=lambda: _on(5))
    held = [budget.reserve(1) for _ in range(3)]
    # When one unbilled call gives its unit back
    assert held[-1] is not None
    budget.release(held[-1])
    # Then exactly one more call is granted
    assert _spend_until_refused(budget, 1) == 1


def test_the_daily_cap_resets_with_the_day_and_the_monthly_cap_does_not(dynamodb: Any) -> None:
    # Given a daily cap of 2 and a monthly cap of 3
    table = _table(dynamodb)
    today = [_on(5)]
    budget = DynamoDbBudget(dynamodb, table, BudgetLimits(daily=2, monthly=3), now=lambda: today[0])
    # When a day is spent, then the next day
    first_day = _spend_until_refused(budget, 1)
    today[0] = _on(6)
    second_day = _spend_until_refused(budget, 1)
    # Then the first day stops at its cap, the second at what is left of the month
    assert (first_day, second_day) == (2, 1)


def test_no_caps_refuse_nothing_and_count_every_unit(dynamodb: Any) -> None:
    # Given no cap at all
    budget = DynamoDbBudget(dynamodb, _table(dynamodb), BudgetLimits(), now=lambda: _on(5))
    # When calls reserve, far past any cap a budget could have had
    reservations = [budget.reserve(1) for _ in range(25)]
    # Then none is refused, and every unit is counted (issue 26: usage is counted with or without a
    # cap, so `cutout budget status` shows it and a cap set later starts from the truth)
    assert all(reservation is not None for reservation in reservations)
    assert (budget.status().day_used, budget.status().remaining) == (25, None)
