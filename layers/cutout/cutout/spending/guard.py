"""The "reserve budget" step: what the conductor calls around the paid call.

``reserve`` holds the units before the call (or raises ``PipelinePaused``); ``after_failure``
gives them back when the call was certainly not billed, and turns Aidge's "quota exhausted" into
a pause. The conductor keeps only the two calls.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from cutout.engine.errors import EngineError
from cutout.failures import FailureReason
from cutout.spending.ledger import (
    Budget,
    BudgetExhausted,
    BudgetStatus,
    PauseLatch,
    Reservation,
    UnlimitedBudget,
)
from cutout.spending.pause import PipelinePaused

QUOTA_EXHAUSTED = "aidge_quota_exhausted"
# The release decision, one row per documented cost (``EngineError.paid``, set by every class of
# the engine tree): the units come back only when the call was certainly not billed. A billed call
# (``True``) and one that may have been (``None``, the answer was lost) keep their reservation.
RELEASE_BY_PAID: Mapping[bool | None, bool] = MappingProxyType({False: True, None: False, True: False})


class BudgetMetrics(Protocol):
    def budget(self, status: BudgetStatus) -> None: ...


class NoBudgetMetrics:
    def budget(self, status: BudgetStatus) -> None:
        return None


def was_not_billed(error: BaseException) -> bool:
    """Whether the failed call certainly cost nothing: an engine error whose class says ``paid = False``.

    The decision reads the class's documented cost (``RELEASE_BY_PAID``), never the error's code,
    which an instance may refine. Anything else (a bug, an unforeseen exception) keeps the
    reservation: counting a call that may have been free is safe, forgetting one that was billed is not.
    """
    return isinstance(error, EngineError) and RELEASE_BY_PAID[type(error).paid]


class SpendingGuard:
    """Reserve before each paid call; release what was not billed; pause when we cannot pay."""

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        latch: PauseLatch | None = None,
        metrics: BudgetMetrics | None = None,
        units_per_call: int = 1,
    ) -> None:
        self.budget: Budget = budget or UnlimitedBudget()
        self.latch = latch or PauseLatch()
        self._metrics = metrics or NoBudgetMetrics()
        self._units = units_per_call
        self._lock = threading.Lock()

    def clear_pause_unless_spent(self) -> BudgetStatus:
        """The current period's status; this process's pause is forgotten unless it is still spent."""
        status = self.budget.status()
        if status.remaining != 0:
            self.latch.clear()
        return status

    def reserve(self) -> Reservation | None:
        held = self.latch.current()
        if held is not None:
            raise PipelinePaused(held, latched=True)
        try:
            reservation = self.budget.reserve(self._units)
        except BudgetExhausted as exhausted:
            self.latch.set(exhausted)
            raise PipelinePaused(exhausted) from None
        if reservation is not None:
            self._metrics.budget(
                BudgetStatus(
                    limits=self.budget.limits,
                    period=reservation.period,
                    day_used=reservation.day_used,
                    month_used=reservation.month_used,
                )
            )
        return reservation

    def after_failure(self, reservation: Reservation | None, error: BaseException) -> None:
        """Release an unbilled reservation; raise ``PipelinePaused`` for an exhausted Aidge quota."""
        if reservation is not None and was_not_billed(error):
            self.budget.release(reservation)
        if isinstance(error, FailureReason) and error.code == QUOTA_EXHAUSTED:
            self.latch.set(error)
            raise PipelinePaused(error) from error
