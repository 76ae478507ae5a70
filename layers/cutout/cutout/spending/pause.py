"""Pausing and resuming the pipeline: the function stops (and restarts) its own SQS event source.

When the budget is spent or Aidge says the account's quota is exhausted, uploads are not failed:
the function disables the event source mapping that feeds it, so Lambda stops receiving from the
work queue and the messages wait there (the queue's retention must outlast a pause). The records
of the batch in hand are reported as failures: they become visible again after the visibility
timeout and are received once the mapping is enabled again. A disabled mapping receives nothing,
so a pause costs each message at most the one receive it was in when the pause began.

Resuming is enabling the mapping again: the schedule in the template does it at 00:05 UTC (the
next daily period), and ``cutout resume`` does it on demand. Before cutout disables the mapping it
writes a *pause marker* (``PauseMarker``: who paused, why, when): the schedule resumes only a
mapping cutout paused, never one an operator disabled on purpose (an incident, a migration);
``cutout resume`` resumes either.

Pausing itself can fail (the SSM parameter gone, IAM, throttling). It must never turn a record
that waits into a failure: the failure is logged and counted (``PauseFailed``) and the record is
still treated as paused (left for redelivery at the first retry step, re-sent on its last receive).
``ResourceInUseException``/``ResourceConflictException`` mean another environment is switching
the mapping at this moment: already on its way, not a failure.

Pausing is never made by reserved concurrency: throttled SQS deliveries still count as receives
and end on the DLQ without the function running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cutout.failures import FailureReason

# Lambda's answers while another caller is changing the same mapping: "already switching".
ALREADY_SWITCHING = frozenset({"ResourceInUseException", "ResourceConflictException"})
PAUSE_MARKER_ID = "cutout-pause"  # the marker's item in the idempotency table


class PipelinePaused(Exception):  # noqa: N818  (a signal, not an error: the upload waits)
    """Raised by the conductor instead of recording a failure: the message must wait in the queue.

    ``latched``: raised from this process's pause latch (no fresh refusal): the pipeline may have been
    resumed since, so the pauser checks before disabling the mapping again.
    """

    def __init__(self, reason: FailureReason, *, latched: bool = False) -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.latched = latched


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return ""


def already_switching(error: BaseException) -> bool:
    """Whether Lambda refused the update because the mapping is being changed right now."""
    return error_code(error) in ALREADY_SWITCHING or type(error).__name__ in ALREADY_SWITCHING


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

    def mapping_uuid(self) -> str:
        """The mapping's UUID (read once, then cached)."""
        with self._lock:
            if self._uuid is None:
                source = self._mapping_id
                self._uuid = source if isinstance(source, str) else source()
            return self._uuid

    def state(self) -> SourceState:
        uuid = self.mapping_uuid()
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


@dataclass(frozen=True, slots=True)
class PauseMark:
    """Who paused the pipeline, why and when (``paused_at`` in UTC)."""

    reason_code: str
    message: str
    paused_at: datetime
    by: str = "cutout"


class PauseMarker(Protocol):
    """Where cutout records that *it* paused the mapping (read by the schedule before resuming)."""

    def write(self, mark: PauseMark) -> None: ...

    def read(self) -> PauseMark | None: ...

    def clear(self) -> None: ...


class DynamoDbPauseMarker:
    """``PauseMarker`` as one item (``id = "cutout-pause"``) in the idempotency table."""

    def __init__(self, client: Any, table: str) -> None:
        self._dynamodb = client
        self._table = table

    def write(self, mark: PauseMark) -> None:
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "id": {"S": PAUSE_MARKER_ID},
                "reason": {"S": mark.reason_code},
                "message": {"S": mark.message[:1000]},
                "paused_at": {"S": mark.paused_at.astimezone(UTC).isoformat()},
                "by": {"S": mark.by},
            },
        )

    def read(self) -> PauseMark | None:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": PAUSE_MARKER_ID}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None

        def text(name: str) -> str:
            return str(item.get(name, {}).get("S", ""))

        try:
            paused_at = datetime.fromisoformat(text("paused_at"))
        except ValueError:
            paused_at = datetime.fromtimestamp(0, UTC)
        return PauseMark(text("reason"), text("message"), paused_at, text("by") or "cutout")

    def clear(self) -> None:
        self._dynamodb.delete_item(TableName=self._table, Key={"id": {"S": PAUSE_MARKER_ID}})


class PauseMetrics(Protocol):
    def pause_failed(self) -> None:
        """``PauseFailed``: the mapping could not be disabled (the record still waits)."""
        ...

    def paused(self, paused: bool) -> None:
        """``Paused`` (1 or 0): emitted by each scheduled run, what the ``Paused`` alarm watches."""
        ...


class NoPauseMetrics:
    def pause_failed(self) -> None:
        return None

    def paused(self, paused: bool) -> None:
        return None


def _state_of(answer: dict[str, Any]) -> str:
    state = answer.get("State")
    if isinstance(state, str) and state:
        return state
    # moto answers without State on some versions: derive it from Enabled if present.
    return "Enabled" if answer.get("Enabled", True) else "Disabled"


class PauseController:
    """What the batch does when a record pauses, and what the schedule and ``cutout resume`` do.

    ``pause`` writes the pause marker, disables the mapping (once: later records of the pause find it
    disabled) and announces ``Cutout Paused``; it never raises. ``requeue`` is for a paused record on
    its last allowed receive: reported as a failure it would be moved to the DLQ by the queue's
    redrive on its next receive, so it is sent again as a fresh message (receive count 0) and the
    original acknowledged. Duplicates are safe: an upload's outcome is decided once per object version.

    Without a ``marker`` store (tests, direct invocations) every disabled mapping counts as cutout's.
    """

    def __init__(
        self,
        switch: EventSourceSwitch | None,
        publisher: Any = None,  # an announcements.EventPublisher; None announces nothing
        requeue: Any = None,  # Callable[[str], None] sending a body to the work queue
        *,
        marker: PauseMarker | None = None,
        metrics: PauseMetrics | None = None,
        latch: Any = None,  # the SpendingGuard's PauseLatch: cleared when a stale latch is found
        backlog: Any = None,  # a redelivery.backlog.BacklogRefresher: the paused backlog sent again
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._switch = switch
        self._publisher = publisher
        self._requeue = requeue
        self._marker = marker
        self.metrics: PauseMetrics = metrics or NoPauseMetrics()
        self._latch = latch
        self._backlog = backlog
        self._now = now
        self._lock = threading.Lock()

    @property
    def switch(self) -> EventSourceSwitch | None:
        return self._switch

    @property
    def marker(self) -> PauseMarker | None:
        return self._marker

    def pause_for(self, paused: PipelinePaused) -> bool:
        """``pause`` for a record that met ``paused``. A latched pause (this process paused a
        moment ago) finding the mapping enabled means the pipeline was resumed since: the latch is
        stale, so it is cleared and the mapping left enabled (the record comes back at the first
        retry step and reserves again)."""
        if paused.latched and self._switch is not None:
            try:
                state = self._switch.state()
            except Exception as error:  # noqa: BLE001  (counted as PauseFailed; the record still waits)
                return self._failed(error, paused.reason)
            if not state.paused:
                from cutout.observability import logger

                if self._latch is not None:
                    self._latch.clear()
                logger.info("pause latch cleared: the pipeline was resumed since", reason=paused.reason.code)
                return False
            return False
        return self.pause(paused.reason)

    def pause(self, reason: FailureReason) -> bool:
        """Stop the event source; True if this call stopped it. Never raises (``PauseFailed``)."""
        from cutout.announcements import PAUSED, pause_announcement
        from cutout.observability import logger

        if self._switch is None:
            logger.warning("paused without an event source to stop (direct invocation)", reason=reason.code)
            return False
        try:
            with self._lock:
                if self._switch.state().paused:
                    return False  # paused already (by us, or by an operator: their pause, no marker)
                self._mark(reason)
                changed = self._switch.disable()
        except Exception as error:  # noqa: BLE001  (a record that waits must never become a failure)
            return self._failed(error, reason)
        if changed:
            logger.warning("pipeline paused: the event source mapping is disabled", reason=reason.code)
            self.metrics.paused(True)  # the Paused alarm goes red now, not at the next scheduled run
            self._announce(pause_announcement(PAUSED, reason_code=reason.code, message=reason.message))
        return changed

    def _mark(self, reason: FailureReason) -> None:
        """Write the pause marker first: a mapping disabled without one is never resumed by the
        schedule. A marker that cannot be written does not stop the pause (we must not pay): it is
        counted, and the ``Paused`` alarm stays red until someone runs ``cutout resume``."""
        from cutout.observability import logger

        if self._marker is None:
            return
        try:
            self._marker.write(PauseMark(reason.code, reason.message, self._now(), "cutout"))
        except Exception as error:  # noqa: BLE001
            logger.error(
                "pause marker not written: the schedule will not resume this pause by itself",
                error=type(error).__name__,
                code=error_code(error),
            )
            self.metrics.pause_failed()

    def _failed(self, error: BaseException, reason: FailureReason) -> bool:
        from cutout.observability import logger

        if already_switching(error):
            logger.info("the event source mapping is already being switched", reason=reason.code)
            return False
        logger.error(
            "pausing failed: the event source mapping is still enabled; the record waits anyway",
            reason=reason.code,
            error=type(error).__name__,
            code=error_code(error),
        )
        self.metrics.pause_failed()
        return False

    def refresh_backlog(self, seconds: float) -> Any:
        """Send the paused backlog again before SQS's retention drops it (``redelivery.backlog``);
        None without a refresher. A failure is logged: the next run tries again."""
        from cutout.observability import logger

        if self._backlog is None:
            return None
        try:
            return self._backlog.refresh(seconds)
        except Exception as error:  # noqa: BLE001  (the resume decision must still be taken)
            logger.error("paused backlog not refreshed", error=type(error).__name__, code=error_code(error))
            return None

    def state(self) -> SourceState | None:
        """The mapping's state (None without a switch)."""
        return None if self._switch is None else self._switch.state()

    def paused_by_cutout(self) -> PauseMark | None:
        """The pause marker; without a marker store, a stand-in mark (every pause is cutout's)."""
        if self._marker is None:
            return PauseMark("unknown", "", self._now())
        return self._marker.read()

    def resume(self, *, by: str) -> bool:
        """Start the event source again and remove the pause marker; True if it was paused."""
        from cutout.announcements import RESUMED, pause_announcement
        from cutout.observability import logger

        if self._switch is None:
            return False
        with self._lock:
            try:
                changed = self._switch.enable()
            except Exception as error:
                if not already_switching(error):
                    raise
                changed = False
            if self._marker is not None:
                self._marker.clear()
        if changed:
            logger.info("pipeline resumed: the event source mapping is enabled", by=by)
            self._announce(
                pause_announcement(
                    RESUMED, reason_code="resumed", message=f"The pipeline was resumed by {by}.", by=by
                )
            )
        return changed

    @property
    def can_requeue(self) -> bool:
        """Whether a message can be sent again as a new one (the work queue is known)."""
        return self._requeue is not None

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
