"""The spending guard's options: keyword-only, so a latch can never be passed where a budget goes."""

from __future__ import annotations

import pytest

from cutout.spending import PauseLatch, PipelinePaused, SpendingGuard
from tests.fakes import InMemoryBudget


def test_options_after_the_budget_are_keyword_only() -> None:
    # Given a budget and a latch
    budget, latch = InMemoryBudget(daily=2), PauseLatch()
    # When the latch is passed by position
    # Then the guard refuses it; by name it is taken
    with pytest.raises(TypeError):
        SpendingGuard(budget, latch)  # type: ignore[misc]
    assert SpendingGuard(budget, latch=latch).latch is latch


@pytest.mark.parametrize(("units", "calls"), [(1, 4), (2, 2), (3, 1), (4, 1), (5, 0)])
def test_each_call_reserves_its_units_per_call(units: int, calls: int) -> None:
    # Given a daily budget of 4 and a cost per call
    budget = InMemoryBudget(daily=4)
    guard = SpendingGuard(budget, units_per_call=units)
    # When calls reserve until the guard pauses
    granted = 0
    for _ in range(6):
        try:
            guard.reserve()
        except PipelinePaused:
            break
        granted += 1
    # Then as many calls as fit were granted, each holding its units
    assert granted == calls
    assert budget.used == calls * units
