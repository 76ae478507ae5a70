"""What the template's schedule (and ``{"cutout": "resume"}``) does: resume a pause that has ended.

Each run reports ``Paused`` (1 while the pipeline stays paused, 0 otherwise), which the ``Paused``
alarm watches: the pause itself emits nothing while it lasts (the function is not invoked), so this
metric is what keeps the alarm red for as long as a pause lasts, budget or quota.

A disabled mapping is resumed only if cutout paused it (its pause marker is there), and only if the
current period's budget has room; an operator's own pause is left alone (``cutout resume`` resumes it).
"""

from __future__ import annotations

from typing import Any

from cutout.budget.guard import SpendingGuard
from cutout.budget.pause import PauseController


def scheduled_resume(spending: SpendingGuard, pauser: PauseController | None, *, by: str) -> dict[str, Any]:
    """Resume if cutout paused and the budget allows; report ``Paused`` either way."""
    from cutout.observability import logger

    state = pauser.state() if pauser is not None else None
    if pauser is None or state is None:
        return {"resumed": False, "reason": "no event source to resume"}
    if not state.paused:
        pauser.metrics.paused(False)
        return {"resumed": False, "reason": "not paused", "state": state.state}
    mark = pauser.paused_by_cutout()
    if mark is None and by == "schedule":
        pauser.metrics.paused(True)
        logger.warning("paused, but not by cutout (no pause marker): left paused; `cutout resume` resumes it")
        return {
            "resumed": False,
            "reason": "paused by someone else, not by cutout: `cutout resume` resumes it",
        }
    status = spending.budget.status()
    if status.remaining == 0:
        pauser.metrics.paused(True)
        return {"resumed": False, "reason": "the budget of the current period is spent"}
    spending.latch.clear()
    changed = pauser.resume(by=by)
    pauser.metrics.paused(False)
    return {"resumed": changed, "remaining": status.remaining}
