"""What the template's schedule (and ``{"cutout": "resume"}``) does: resume a pause that has ended.

Each run reports ``Paused`` (1 while the pipeline stays paused, 0 otherwise), which the ``Paused``
alarm watches: the pause itself emits nothing while it lasts (the function is not invoked), so this
metric is what keeps the alarm red for as long as a pause lasts, budget or quota.

A disabled mapping is resumed only if cutout paused it (its pause marker is there), and only if the
current period's budget has room; an operator's own pause is left alone (``cutout resume`` resumes it).

Before deciding, a run that finds the pipeline paused sends the waiting backlog again
(``cutout.redelivery.backlog``): however long a pause lasts, SQS's retention never drops an upload.
"""

from __future__ import annotations

from typing import Any

from cutout.spending.guard import SpendingGuard
from cutout.spending.pause import PauseController

# At most this long for the backlog's refresh, whatever the invocation has left (a scan that does not
# finish goes on the next day); it also keeps the margin for the decision after it.
REFRESH_SECONDS_MAX = 600.0
REFRESH_MARGIN_SECONDS = 15.0


def scheduled_resume(
    spending: SpendingGuard,
    pauser: PauseController | None,
    *,
    by: str,
    remaining_seconds: float | None = None,
) -> dict[str, Any]:
    """Resume if cutout paused and the budget allows; report ``Paused`` either way. While paused,
    refresh the backlog first (for ``remaining_seconds`` less a margin, the invocation's time)."""
    from cutout.observability import logger

    state = pauser.state() if pauser is not None else None
    if pauser is None or state is None:
        return {"resumed": False, "reason": "no event source to resume"}
    if not state.paused:
        pauser.metrics.paused(False)
        return {"resumed": False, "reason": "not paused", "state": state.state}
    budget = min(REFRESH_SECONDS_MAX, (remaining_seconds or 60.0) - REFRESH_MARGIN_SECONDS)
    refreshed = pauser.refresh_backlog(max(1.0, budget))
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
        return {
            "resumed": False,
            "reason": "the budget of the current period is spent",
            "refreshed": _facts(refreshed),
        }
    spending.latch.clear()
    changed = pauser.resume(by=by)
    pauser.metrics.paused(False)
    return {"resumed": changed, "remaining": status.remaining, "refreshed": _facts(refreshed)}


def _facts(refreshed: Any) -> dict[str, Any] | None:
    return None if refreshed is None else {"resent": refreshed.resent, "complete": refreshed.complete}
