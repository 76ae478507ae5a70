"""Pausing and resuming the pipeline: the function stops (and restarts) its own SQS event source.

When the budget is spent or Aidge says the account's quota is exhausted, uploads are not failed:
the function disables the event source mapping that feeds it, so Lambda stops receiving from the
work queue and the messages wait there (the queue's retention must outlast a pause). The records
of the batch in hand are reported as failures: they become visible again after the visibility
timeout and are received once the mapping is enabled again. A disabled mapping receives nothing,
so a pause costs each message at most the one receive it was in when the pause began.

Resuming is enabling the mapping again: the schedule in the template does it at 00:05 UTC (the
next daily period), and ``cutout resume`` does it on demand.

Pausing is never made by reserved concurrency: throttled SQS deliveries still count as receives
and end on the DLQ without the function running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cutout.failures import FailureReason


class PipelinePaused(Exception):  # noqa: N818  (a signal, not an error: the upload waits)
    """Raised by the conductor instead of recording a failure: the message must wait in the queue."""

    def __init__(self, reason: FailureReason) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the mapping says about itself (``Enabled``, ``Disabling``, ``Disabled``, ``Enabling``…)."""

    uuid: str
    state: str

    @property
    def paused(self) -> bool:
        return self.state in ("Disabled", "Disabling")


class EventSourceSwitch(Protocol):
    """The port that stops and restarts the function's own SQS event source mapping."""

    def state(self) -> SourceState: ...

    def disable(self) -> bool:
        """Stop receiving. True if this call changed it (it was enabled)."""
        ...

    def enable(self) -> bool:
        """Receive again. True if this call changed it (it was paused)."""
        ...


class LambdaEventSourceSwitch:
    """``EventSourceSwitch`` on Lambda's ``Get``/``UpdateEventSourceMapping``.

    ``mapping_id`` gives the mapping's UUID (read once, then cached): in the deployed stack it is an
    SSM parameter the template writes. The template allows these two calls on that mapping only.
    """

    def __init__(self, client: Any, *, mapping_id: Callable[[], str] | str) -> None:
        self._lambda = client
        self._mapping_id = mapping_id
        self._uuid: str | None = None
        self._lock = threading.Lock()

    def _mapping_uuid(self) -> str:
        with self._lock:
            if self._uuid is None:
                source = self._mapping_id
                self._uuid = source if isinstance(source, str) else source()
            return self._uuid

    def state(self) -> SourceState:
        uuid = self._mapping_uuid()
        answer = self._lambda.get_event_source_mapping(UUID=uuid)
        return SourceState(uuid=uuid, state=_state_of(answer))

    def disable(self) -> bool:
        return self._switch(enabled=False)

    def enable(self) -> bool:
        return self._switch(enabled=True)

    def _switch(self, *, enabled: bool) -> bool:
        current = self.state()
        if current.paused != enabled:
            return False  # already where we want it (or on its way there)
        self._lambda.update_event_source_mapping(UUID=current.uuid, Enabled=enabled)
        return True


def _state_of(answer: dict[str, Any]) -> str:
    state = answer.get("State")
    if isinstance(state, str) and state:
        return state
    # moto answers without State on some versions: derive it from Enabled if present.
    return "Enabled" if answer.get("Enabled", True) else "Disabled"


class PauseController:
    """What the batch does when a record pauses, and what the schedule and ``cutout resume`` do.

    ``pause`` disables the mapping (once: later records of the pause find it disabled) and announces
    ``Cutout Paused``. ``requeue`` is for a paused record on its last allowed receive: reported as a
    failure it would be moved to the DLQ by the queue's redrive on its next receive, so it is sent
    again as a fresh message (receive count 0) and the original acknowledged. Duplicates are safe:
    an upload's outcome is decided once per object version.
    """

    def __init__(
        self,
        switch: EventSourceSwitch | None,
        publisher: Any = None,  # an announcements.EventPublisher; None announces nothing
        requeue: Any = None,  # Callable[[str], None] sending a body to the work queue
    ) -> None:
        self._switch = switch
        self._publisher = publisher
        self._requeue = requeue
        self._lock = threading.Lock()

    def pause(self, reason: FailureReason) -> bool:
        """Stop the event source; True if this call stopped it."""
        from cutout.announcements import PAUSED, pause_announcement
        from cutout.observability import logger

        if self._switch is None:
            logger.warning("paused without an event source to stop (direct invocation)", reason=reason.code)
            return False
        with self._lock:
            changed = self._switch.disable()
        if changed:
            logger.warning("pipeline paused: the event source mapping is disabled", reason=reason.code)
            self._announce(pause_announcement(PAUSED, reason_code=reason.code, message=reason.message))
        return changed

    def resume(self, *, by: str) -> bool:
        """Start the event source again; True if it was paused."""
        from cutout.announcements import RESUMED, pause_announcement
        from cutout.observability import logger

        if self._switch is None:
            return False
        with self._lock:
            changed = self._switch.enable()
        if changed:
            logger.info("pipeline resumed: the event source mapping is enabled", by=by)
            self._announce(
                pause_announcement(
                    RESUMED, reason_code="resumed", message=f"The pipeline was resumed by {by}.", by=by
                )
            )
        return changed

    def requeue(self, body: str) -> bool:
        """Send ``body`` again as a new message; True if sent (then acknowledge the original)."""
        if self._requeue is None:
            return False
        try:
            self._requeue(body)
        except Exception:  # noqa: BLE001  (left as a failure instead: the queue still holds it)
            return False
        return True

    def _announce(self, announcement: Any) -> None:
        from cutout.observability import logger

        if self._publisher is None:
            return
        try:
            self._publisher.publish([announcement])
        except Exception as error:  # noqa: BLE001  (a pause must not fail because an event did not go out)
            logger.warning("pause event not published", error=type(error).__name__)
