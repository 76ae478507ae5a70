"""When to try again, as a pure function, so the policy is a table a test can read.

``next_delay`` answers one question: after attempt number ``attempt`` failed with ``error``, how
long to wait before the next one (``None``: stop). It never sleeps and never reads a clock; the
client combines it with its deadline. Backoff is capped exponential with *full* jitter
(``random_value * min(cap, base * 2**(attempt - 1))``): many Lambdas hitting a rate limit at once
spread out instead of retrying in lockstep.

Each error ``code`` has its own attempt budget: a system error is worth several tries, a failed
model run or content check only one more, a permanent error none at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cutout.engine.errors import EngineError


def _frozen(table: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(table))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt budgets per error code and the backoff curve.

    ``max_attempts_by_code`` counts attempts in total (first one included). A retryable code that
    is not listed gets ``default_retryable_attempts``; a permanent error always gets one.
    """

    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    max_attempts_by_code: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    default_retryable_attempts: int = 3

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("backoff needs 0 < base_seconds <= cap_seconds")
        if self.default_retryable_attempts < 1 or any(n < 1 for n in self.max_attempts_by_code.values()):
            raise ValueError("attempt budgets count the first attempt: each must be at least 1")
        object.__setattr__(self, "max_attempts_by_code", _frozen(self.max_attempts_by_code))

    def max_attempts(self, error: EngineError) -> int:
        """How many attempts in total this error is worth."""
        if not error.retryable:
            return 1
        return self.max_attempts_by_code.get(error.code, self.default_retryable_attempts)

    def backoff(self, attempt: int) -> float:
        """The upper bound of the wait after failed attempt ``attempt`` (1-based), before jitter."""
        return min(self.cap_seconds, self.base_seconds * 2.0 ** (attempt - 1))


def next_delay(policy: RetryPolicy, error: EngineError, attempt: int, random_value: float) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, or ``None`` to stop and raise ``error``.

    ``attempt`` is the 1-based number of the attempt that just failed; ``random_value`` is a
    uniform draw in [0, 1) (injected, so the function stays pure).
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    if not 0.0 <= random_value <= 1.0:
        raise ValueError("random_value must be in [0, 1]")
    if attempt >= policy.max_attempts(error):
        return None
    return random_value * policy.backoff(attempt)


# The paid call. Budgets follow the Aidge error table (aidge-protocol.md): system errors and rate
# limits are transient; a failed model run (801) or content check (1001) gets one more try only.
AIDGE_CALL_RETRY = RetryPolicy(
    base_seconds=0.5,
    cap_seconds=8.0,
    max_attempts_by_code={
        "aidge_500": 4,
        "aidge_http_5xx": 4,  # 500/503 from a gateway: not processed (502/504 are engine_answer_lost)
        "aidge_rate_limited": 6,
        "aidge_801": 2,
        "aidge_1001": 2,
        "engine_timeout": 3,  # connect/write/pool: the request never reached the API
        "engine_answer_lost": 1,  # sent, answer lost: possibly billed, so never re-sent here
        "engine_unreachable": 3,
        "aidge_malformed_response": 2,  # JSON, neither success nor error: not billed
    },
    default_retryable_attempts=3,
)

# The free download of a result: short waits, a few tries, only for "not there (yet)" answers.
RESULT_FETCH_RETRY = RetryPolicy(
    base_seconds=0.25,
    cap_seconds=2.0,
    max_attempts_by_code={"result_unavailable": 4},
    default_retryable_attempts=3,
)
