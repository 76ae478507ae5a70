"""The completion events of a local run, read from the stack's events queue and counted.

The local stack deploys the template's example consumer (``EventsQueue: "true"``: an EventBridge
rule on source ``cutout`` targeting an SQS queue), and moto's EventBridge delivers each event the
function puts to it. After a run, once no batch is running (the function publishes an outcome's
event right after storing it), the queue is drained and its events counted per detail-type: the
summary's ``events`` section, the report's and the table's events line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from cutout_tools.local_stack.stack import LocalStack
from cutout_tools.unattended.event_queue import EventQueue, count_by_detail_type

SETTLE_SECONDS = 10.0  # at most this long for the last batches to finish before the queue is read
POLL_SECONDS = 0.1


def collect_run_events(stack: LocalStack, *, settle_seconds: float = SETTLE_SECONDS) -> dict[str, Any] | None:
    """``{"queue", "total", "by_detail_type"}`` for the events now in the stack's events queue (each
    read once), or ``None`` when the stack has no events queue (a template without the option)."""
    queue_url = stack.describe().get("events_queue_url")
    if not queue_url:
        return None
    deadline = time.monotonic() + settle_seconds
    while stack.poller is not None and stack.poller.in_flight and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    events = EventQueue(stack.client("sqs"), str(queue_url)).drain()
    return {"queue": queue_url, "total": len(events), "by_detail_type": count_by_detail_type(events)}


def events_line(summary: Mapping[str, Any]) -> str | None:
    """``12 events: Cutout Image Processed 10, Cutout Image Failed 2`` (None without a count)."""
    events = summary.get("events")
    if not isinstance(events, Mapping):
        return None
    counts = events.get("by_detail_type")
    parts = [f"{name} {count}" for name, count in counts.items()] if isinstance(counts, Mapping) else []
    total = events.get("total", 0)
    return f"{total} event{'' if total == 1 else 's'} on the events queue" + (
        f": {', '.join(parts)}" if parts else ""
    )
