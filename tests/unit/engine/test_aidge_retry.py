"""The retry policy is a pure function: a table of (error, attempt, random) -> delay."""

from __future__ import annotations

import pytest

from cutout.engine.aidge.errors import (
    AidgeContentCheckFailedError,
    AidgeHttpServerError,
    AidgeInvalidInputError,
    AidgeMalformedResponseError,
    AidgeModelFailedError,
    AidgeQuotaExhaustedError,
    AidgeRateLimitedError,
    AidgeSensitiveContentError,
    AidgeSystemError,
    AidgeUnauthorizedError,
    EngineAnswerLostError,
    EngineTimeoutError,
    EngineUnreachableError,
    ResultUnavailableError,
    ResultUrlRefusedError,
)
from cutout.engine.aidge.retry import AIDGE_CALL_RETRY, RESULT_FETCH_RETRY, RetryPolicy, next_delay
from cutout.engine.errors import EngineError, RetryableEngineError

CALL = AIDGE_CALL_RETRY  # base 0.5 s, cap 8 s


def err(cls: type[EngineError]) -> EngineError:
    return cls("test")


@pytest.mark.parametrize(
    ("error", "attempt", "random_value", "expected"),
    [
        # system error: 4 attempts, exponential 0.5, 1, 2 then stop
        (err(AidgeSystemError), 1, 1.0, 0.5),
        (err(AidgeSystemError), 2, 1.0, 1.0),
        (err(AidgeSystemError), 3, 1.0, 2.0),
        (err(AidgeSystemError), 4, 1.0, None),
        # full jitter: the delay is the random fraction of the bound
        (err(AidgeSystemError), 3, 0.25, 0.5),
        (err(AidgeSystemError), 1, 0.0, 0.0),
        # rate limited: 6 attempts, capped at 8 s
        (err(AidgeRateLimitedError), 5, 1.0, 8.0),
        (err(AidgeRateLimitedError), 6, 1.0, None),
        # a few attempts only
        (err(AidgeModelFailedError), 1, 1.0, 0.5),
        (err(AidgeModelFailedError), 2, 1.0, None),
        (err(AidgeContentCheckFailedError), 1, 1.0, 0.5),
        (err(AidgeContentCheckFailedError), 2, 1.0, None),
        (err(AidgeMalformedResponseError), 1, 1.0, 0.5),
        (err(AidgeMalformedResponseError), 2, 1.0, None),
        (err(AidgeHttpServerError), 3, 1.0, 2.0),
        (err(AidgeHttpServerError), 4, 1.0, None),
        (err(EngineTimeoutError), 2, 1.0, 1.0),
        (err(EngineTimeoutError), 3, 1.0, None),
        (err(EngineAnswerLostError), 1, 0.0, None),
        (err(EngineUnreachableError), 2, 0.5, 0.5),
        (err(EngineUnreachableError), 3, 1.0, None),
        # permanent errors: never retried
        (err(AidgeInvalidInputError), 1, 1.0, None),
        (err(AidgeSensitiveContentError), 1, 1.0, None),
        (err(AidgeUnauthorizedError), 1, 1.0, None),
        (err(AidgeQuotaExhaustedError), 1, 1.0, None),
        # an unlisted retryable code gets the default budget (3)
        (RetryableEngineError("x", code="engine_unavailable"), 2, 1.0, 1.0),
        (RetryableEngineError("x", code="engine_unavailable"), 3, 1.0, None),
    ],
)
def test_call_policy_table(
    error: EngineError, attempt: int, random_value: float, expected: float | None
) -> None:
    # Given the paid call's policy and an attempt that failed with `error`
    # When asking for the next delay
    delay = next_delay(CALL, error, attempt, random_value)
    # Then it is the tabled delay, or None to stop
    assert delay == expected


@pytest.mark.parametrize(
    ("error", "attempt", "expected"),
    [
        (err(ResultUnavailableError), 1, 0.25),
        (err(ResultUnavailableError), 3, 1.0),
        (err(ResultUnavailableError), 4, None),
        (err(ResultUrlRefusedError), 1, None),
    ],
)
def test_fetch_policy_table(error: EngineError, attempt: int, expected: float | None) -> None:
    # Given the free download's policy
    # When asking for the next delay at full jitter
    delay = next_delay(RESULT_FETCH_RETRY, error, attempt, 1.0)
    # Then only result_unavailable is retried, a few times, with short waits
    assert delay == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_seconds": 0.0}, "backoff"),
        ({"base_seconds": 2.0, "cap_seconds": 1.0}, "backoff"),
        ({"max_attempts_by_code": {"aidge_500": 0}}, "at least 1"),
        ({"default_retryable_attempts": 0}, "at least 1"),
    ],
)
def test_policy_refuses_nonsense(kwargs: dict[str, object], message: str) -> None:
    # Given policy settings that cannot work
    # When building the policy
    # Then it refuses, saying why
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("attempt", "random_value"), [(0, 0.5), (1, -0.1), (1, 1.5)])
def test_next_delay_refuses_bad_arguments(attempt: int, random_value: float) -> None:
    # Given an attempt number or random draw out of range
    # When asking for a delay
    # Then it refuses rather than computing nonsense
    with pytest.raises(ValueError, match=r"attempt|random_value"):
        next_delay(CALL, err(AidgeSystemError), attempt, random_value)


def test_policy_table_is_read_only() -> None:
    # Given the shipped policy
    # When someone tries to change a budget at runtime
    # Then it refuses (policies are shared by every client)
    with pytest.raises(TypeError):
        CALL.max_attempts_by_code["aidge_500"] = 100  # type: ignore[index]
