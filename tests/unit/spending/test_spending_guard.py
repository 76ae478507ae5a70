"""The "reserve budget" step alone: reserve, release what was not billed, pause when we cannot pay."""

from __future__ import annotations

import pytest

from cutout.engine.aidge.errors import (
    AidgeQuotaExhaustedError,
    AidgeRateLimitedError,
    EngineAnswerLostError,
    EngineUnreachableError,
)
from cutout.spending import BudgetStatus, Period, PipelinePaused, SpendingGuard, was_not_billed
from tests.fakes import InMemoryBudget


class RecordingBudgetMetrics:
    def __init__(self) -> None:
        self.statuses: list[BudgetStatus] = []

    def budget(self, status: BudgetStatus) -> None:
        self.statuses.append(status)


def test_reservations_stop_at_the_cap_and_then_pause() -> None:
    # Given a daily budget of 3 units, one unit per call
    budget = InMemoryBudget(daily=3)
    guard = SpendingGuard(budget)
    # When four calls reserve
    held = [guard.reserve() for _ in range(3)]
    with pytest.raises(PipelinePaused) as paused:
        guard.reserve()
    # Then three are held, the fourth pauses with the budget's reason, and nothing went over
    assert all(reservation is not None for reservation in held)
    assert paused.value.reason.code == "budget_exhausted"
    assert budget.used == 3


def test_after_a_pause_the_latch_pauses_at_once_without_asking_the_budget() -> None:
    # Given a guard that has just paused
    budget = InMemoryBudget(daily=1)
    guard = SpendingGuard(budget)
    guard.reserve()
    with pytest.raises(PipelinePaused):
        guard.reserve()
    budget.used = 0  # the budget would have room again (a new day), but the latch holds for a while
    # When another record reserves
    with pytest.raises(PipelinePaused):
        guard.reserve()
    # Then the latch answered: nothing more was reserved
    assert budget.reserved == 1


@pytest.mark.parametrize(
    ("error", "released"),
    [
        (AidgeRateLimitedError("slow down"), True),
        (EngineUnreachableError("no connection"), True),
        (EngineAnswerLostError("sent, answer lost: may be billed"), False),
        (RuntimeError("a bug"), False),
    ],
)
def test_only_certainly_unbilled_calls_give_their_units_back(error: Exception, released: bool) -> None:
    # Given a reservation for a call that then failed
    budget = InMemoryBudget(daily=5)
    guard = SpendingGuard(budget)
    reservation = guard.reserve()
    # When the failure is settled
    guard.after_failure(reservation, error)
    # Then the units come back only if the call cannot have been billed
    assert was_not_billed(error) is released
    assert budget.used == (0 if released else 1)


def test_an_exhausted_aidge_quota_pauses_and_gives_the_units_back() -> None:
    # Given a reservation for a call Aidge refused with "quota exhausted"
    budget = InMemoryBudget(daily=5)
    guard = SpendingGuard(budget)
    reservation = guard.reserve()
    # When the failure is settled
    with pytest.raises(PipelinePaused) as paused:
        guard.after_failure(reservation, AidgeQuotaExhaustedError("no resources left"))
    # Then the pipeline pauses for that reason, and the unbilled call costs nothing
    assert paused.value.reason.code == "aidge_quota_exhausted"
    assert budget.used == 0


def test_without_a_cap_nothing_is_reserved() -> None:
    # Given no budget at all
    guard = SpendingGuard()
    # When a call reserves and fails
    reservation = guard.reserve()
    guard.after_failure(reservation, AidgeRateLimitedError("slow down"))
    # Then there was nothing to hold or to give back
    assert reservation is None


def test_each_reservation_reports_used_remaining_and_percent() -> None:
    # Given a budget of 4 with metrics
    metrics = RecordingBudgetMetrics()
    guard = SpendingGuard(InMemoryBudget(daily=4), metrics=metrics)
    # When three calls reserve
    for _ in range(3):
        guard.reserve()
    # Then the last status says 3 used, 1 remaining, 75 %
    last = metrics.statuses[-1]
    assert (last.day_used, last.remaining, last.used_percent) == (3, 1, 75.0)


def test_the_status_takes_the_tighter_of_daily_and_monthly_caps() -> None:
    # Given a status with both caps
    from cutout.spending import BudgetLimits

    status = BudgetStatus(
        BudgetLimits(daily=10, monthly=100), Period("2026-12", "05"), day_used=4, month_used=97
    )
    # When the remainder and the share are read
    # Then the monthly cap is the one that binds
    assert (status.day_remaining, status.month_remaining, status.remaining) == (6, 3, 3)
    assert status.used_percent == 97.0
