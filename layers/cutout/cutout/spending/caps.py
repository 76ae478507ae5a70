"""The budget's caps, read at run time: what ``cutout resume --daily-budget`` changes reaches the
function that the work queue really invokes.

The work queue invokes the alias ``live`` (``AutoPublishAlias``), a published version whose
environment never changes: a cap kept in an environment variable could only change with a deploy.
So the caps live in an SSM parameter of the stack (``/<stack>/cutout/budget``, JSON
``{"daily": N, "monthly": M}``; the template writes it from ``DailyBudget``/``MonthlyBudget``),
read by each execution environment at most every ``CAPS_MAX_AGE_SECONDS``: a change takes effect
within that long, without a deploy, and at once for a reservation the cached caps would refuse
(the ledger confirms a refusal against caps read afresh before pausing: a raised cap never pauses
the pipeline again). A later deploy overwrites the parameter only if it changes those two
template parameters.

A read that fails keeps the caps last read (and says so in the log); before any read succeeded, the
environment's caps (the deploy's values) stand in. The start-up checks make sure the parameter
exists before anything is paid for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from cutout.spending.ledger import BudgetLimits

CAPS_MAX_AGE_SECONDS = 30.0


class BudgetCapsError(ValueError):
    """The parameter's value is not ``{"daily": N, "monthly": M}`` with whole numbers >= 0."""


def caps_text(limits: BudgetLimits) -> str:
    """The parameter's value for ``limits`` (what the template and ``cutout resume`` write)."""
    return json.dumps({"daily": limits.daily, "monthly": limits.monthly})


def parse_caps(text: str, *, where: str = "the budget parameter") -> BudgetLimits:
    """``{"daily": N, "monthly": M}`` as ``BudgetLimits``; ``BudgetCapsError`` naming ``where``."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise BudgetCapsError(f'{where}: not JSON ({error}); expected {{"daily": N, "monthly": M}}') from None
    if not isinstance(value, dict) or set(value) - {"daily", "monthly"}:
        raise BudgetCapsError(f'{where}: expected {{"daily": N, "monthly": M}}, got {text[:200]!r}')
    caps: dict[str, int] = {}
    for name in ("daily", "monthly"):
        number = value.get(name, 0)
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise BudgetCapsError(f"{where}: {name} must be a whole number >= 0 (0: no cap), got {number!r}")
        caps[name] = number
    return BudgetLimits(daily=caps["daily"], monthly=caps["monthly"])


class RuntimeBudgetCaps:
    """A callable returning the current caps: read through ``read`` at most every ``max_age`` seconds."""

    def __init__(
        self,
        read: Callable[[], str],
        *,
        fallback: BudgetLimits,
        where: str = "the budget parameter",
        max_age_seconds: float = CAPS_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._fallback = fallback
        self._where = where
        self._max_age = max_age_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: BudgetLimits | None = None
        self._read_at = 0.0

    def refresh(self) -> BudgetLimits:
        """The caps read now, whatever the cache's age (a refusal is confirmed against them)."""
        with self._lock:
            self._read_at = float("-inf")
        return self()

    def __call__(self) -> BudgetLimits:
        with self._lock:
            now = self._clock()
            if self._limits is not None and now - self._read_at < self._max_age:
                return self._limits
            try:
                limits = parse_caps(self._read(), where=self._where)
            except Exception as error:  # noqa: BLE001  (the caps last known keep standing)
                from cutout.observability import logger

                kept = self._limits or self._fallback
                logger.warning(
                    "budget caps not read: the last known stand",
                    parameter=self._where,
                    error=type(error).__name__,
                    daily=kept.daily,
                    monthly=kept.monthly,
                )
                self._read_at = now  # not again at once: at most one failing read per max_age
                self._limits = kept
                return kept
            self._limits, self._read_at = limits, now
            return limits


def ssm_budget_caps(ssm: Any, parameter: str, *, fallback: BudgetLimits) -> RuntimeBudgetCaps:
    """``RuntimeBudgetCaps`` on an SSM ``String`` parameter."""

    def read() -> str:
        return str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])

    return RuntimeBudgetCaps(read, fallback=fallback, where=f"SSM parameter {parameter}")


def budget_limits_of(settings: Any, ssm: Any) -> BudgetLimits | RuntimeBudgetCaps:
    """The function's caps: read at run time from ``BUDGET_PARAMETER`` if set, else its environment's."""
    fixed = BudgetLimits(daily=settings.daily_budget, monthly=settings.monthly_budget)
    if not settings.budget_parameter:
        return fixed
    return ssm_budget_caps(ssm, settings.budget_parameter, fallback=fixed)
