"""The report's events line: the completion events a run's stack announced, per detail-type.

Read from the summary's ``events`` section (``cutout_tools.local_stack.run_events``: the stack's
events queue drained after the run); a summary without it (an older run, a template without the
events queue) shows no line. Nothing of the summary's shape is trusted: counts that are not
whole numbers are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventCounts:
    total: int
    by_detail_type: tuple[tuple[str, int], ...]


def event_counts(summary: Mapping[str, object]) -> EventCounts | None:
    events = summary.get("events")
    if not isinstance(events, Mapping):
        return None
    counts = events.get("by_detail_type")
    pairs = tuple(
        (str(name), count)
        for name, count in (counts.items() if isinstance(counts, Mapping) else ())
        if isinstance(count, int) and not isinstance(count, bool)
    )
    total = events.get("total")
    return EventCounts(
        total=total if isinstance(total, int) and not isinstance(total, bool) else sum(n for _, n in pairs),
        by_detail_type=pairs,
    )
