"""The event-publishing port and its EventBridge adapter (PutEvents, failed entries retried).

PutEvents takes up to 10 entries, processes them in order and goes on past failed ones; the answer
lists each entry's result in order. Only the failed entries are sent again, with backoff; what
still fails after the last attempt raises ``EventsNotPublished`` (the conductor decides what then).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from cutout.announcements.events import SOURCE, Announcement
from cutout.failures import FailureReason

MAX_ENTRIES_PER_CALL = 10
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = (0.2, 0.5, 1.0)


class EventsNotPublished(FailureReason):
    """EventBridge did not take every event after retries; the outcome itself is already stored."""

    code = "events_not_published"
    retryable = True


class EventPublisher(Protocol):
    def publish(self, announcements: Sequence[Announcement]) -> None:
        """Put every announcement, or raise ``EventsNotPublished``."""
        ...


class NoEventPublisher:
    """Announcements switched off (no bus): nothing is sent."""

    def publish(self, announcements: Sequence[Announcement]) -> None:
        return None


class EventBridgePublisher:
    """``EventPublisher`` on ``events:PutEvents`` to one bus (``default`` or a named one)."""

    def __init__(
        self,
        client: Any,  # a boto3 EventBridge client
        bus_name: str = "default",
        *,
        source: str = SOURCE,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._events = client
        self._bus = bus_name
        self._source = source
        self._sleep = sleep
        self._max_attempts = max_attempts

    def entry(self, announcement: Announcement) -> dict[str, Any]:
        return {
            "Source": self._source,
            "DetailType": announcement.detail_type,
            "Detail": json.dumps(announcement.detail, separators=(",", ":"), sort_keys=True),
            "Resources": list(announcement.resources),
            "EventBusName": self._bus,
        }

    def publish(self, announcements: Sequence[Announcement]) -> None:
        pending = [self.entry(announcement) for announcement in announcements]
        for start in range(0, len(pending), MAX_ENTRIES_PER_CALL):
            self._put_all(pending[start : start + MAX_ENTRIES_PER_CALL])

    def _put_all(self, entries: list[dict[str, Any]]) -> None:
        last_error = ""
        for attempt in range(self._max_attempts):
            if attempt:
                self._sleep(BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
            try:
                answer = self._events.put_events(Entries=entries)
            except Exception as error:  # noqa: BLE001  (throttling, 5xx after the SDK's own retries)
                last_error = type(error).__name__
                continue
            results = answer.get("Entries", [])
            failed = [
                entry
                for entry, result in zip(entries, results, strict=False)
                if result.get("ErrorCode") or not result.get("EventId")
            ]
            if len(results) < len(entries):  # an answer shorter than the request: resend the rest
                failed += entries[len(results) :]
            if not failed:
                return
            codes = {result.get("ErrorCode") for result in results if result.get("ErrorCode")}
            last_error = ", ".join(sorted(str(code) for code in codes)) or "entries without an EventId"
            entries = failed
        raise EventsNotPublished(
            f"{len(entries)} event(s) were not accepted by EventBridge after {self._max_attempts} attempts "
            f"({last_error})."
        )
