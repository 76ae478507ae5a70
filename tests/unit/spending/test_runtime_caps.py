"""The budget's caps read at run time (an SSM parameter, cached briefly): issue 24, item 2."""

from __future__ import annotations

import json

import pytest

from cutout.settings import Settings
from cutout.spending import BudgetLimits
from cutout.spending.caps import (
    CAPS_MAX_AGE_SECONDS,
    BudgetCapsError,
    RuntimeBudgetCaps,
    budget_limits_of,
    caps_text,
    parse_caps,
)

ENV = {
    "OUTPUT_BUCKET": "out-bucket",
    "DEAD_LETTER_QUEUE_URL": "https://sqs/dlq",
    "IDEMPOTENCY_TABLE": "table",
    "AIDGE_SECRET_NAME": "secret",
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Parameter:
    """An SSM parameter's value, counting reads; ``fail`` makes the next reads raise."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads = 0
        self.fail = False

    def __call__(self) -> str:
        self.reads += 1
        if self.fail:
            raise RuntimeError("ThrottlingException")
        return self.value


@pytest.mark.parametrize(
    ("daily", "monthly"), [(0, 0), (1, 0), (0, 1), (3, 90), (999_999_999, 9_999_999_999), (10**9, 1)]
)
def test_what_the_cli_writes_is_what_the_function_reads(daily: int, monthly: int) -> None:
    # Given any caps; When written and read back; Then they are the same
    limits = BudgetLimits(daily=daily, monthly=monthly)
    assert parse_caps(caps_text(limits)) == limits


def test_the_template_s_value_shape_is_read() -> None:
    # Given the value the template writes (!Sub '{"daily": ${DailyBudget}, "monthly": ${MonthlyBudget}}')
    # When read; Then both caps come out
    assert parse_caps('{"daily": 3, "monthly": 0}') == BudgetLimits(daily=3, monthly=0)


@pytest.mark.parametrize(
    "text",
    ["", "3", "[]", '{"daily": -1}', '{"daily": 1.5}', '{"daily": "3"}', '{"daily": true}', '{"weekly": 1}'],
)
def test_a_malformed_value_is_refused_naming_the_parameter(text: str) -> None:
    # Given a value that is not {"daily": N, "monthly": M}; When read; Then the error names where
    with pytest.raises(BudgetCapsError, match="SSM parameter /s/cutout/budget"):
        parse_caps(text, where="SSM parameter /s/cutout/budget")


def test_a_change_takes_effect_once_the_cache_has_aged_and_not_before() -> None:
    # Given caps of 3 read once
    clock, parameter = Clock(), Parameter(json.dumps({"daily": 3, "monthly": 0}))
    caps = RuntimeBudgetCaps(parameter, fallback=BudgetLimits(), clock=clock)
    assert caps().daily == 3
    # When `cutout resume --daily-budget 20` writes the parameter
    parameter.value = json.dumps({"daily": 20, "monthly": 0})
    # Then just before the cache's age the old caps stand (one read in all), just after the new ones
    clock.now = CAPS_MAX_AGE_SECONDS - 0.001
    assert caps().daily == 3
    assert parameter.reads == 1
    clock.now = CAPS_MAX_AGE_SECONDS
    assert caps().daily == 20
    assert parameter.reads == 2


def test_a_failed_read_keeps_the_caps_last_read_and_before_any_read_the_deployed_ones() -> None:
    # Given a parameter that cannot be read yet
    clock, parameter = Clock(), Parameter(json.dumps({"daily": 7, "monthly": 0}))
    parameter.fail = True
    caps = RuntimeBudgetCaps(parameter, fallback=BudgetLimits(daily=2), clock=clock)
    # When read; Then the deployed caps stand in
    assert caps() == BudgetLimits(daily=2)
    # When it can be read again (after the cache's age); Then its caps; and when it fails again, they stay
    parameter.fail = False
    clock.now += CAPS_MAX_AGE_SECONDS
    assert caps().daily == 7
    parameter.fail = True
    clock.now += CAPS_MAX_AGE_SECONDS
    assert caps().daily == 7


def test_the_function_reads_the_parameter_when_its_settings_name_one() -> None:
    # Given settings with and without BUDGET_PARAMETER
    fixed = budget_limits_of(Settings.from_env({**ENV, "DAILY_BUDGET": "4"}), ssm=None)
    runtime = budget_limits_of(Settings.from_env({**ENV, "BUDGET_PARAMETER": "/s/cutout/budget"}), ssm=None)
    # Then the first is fixed, the second read at run time
    assert fixed == BudgetLimits(daily=4)
    assert isinstance(runtime, RuntimeBudgetCaps)
