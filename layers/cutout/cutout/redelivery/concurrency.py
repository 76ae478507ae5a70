"""When the API throttles: the pipeline lowers its own concurrency, and restores it when it answers.

A rate limit (Aidge's 501, HTTP 429) says "not now", not "no": the upload waits in the queue (it
uses up no attempt, ``cutout.redelivery.attempts``) and comes back on the rate-limit schedule. If
every environment kept sending at full concurrency, the limit would hold for as long as the
backlog lasts. So a batch in which the API still said "not now" after the client's own retries
halves the event source mapping's ``MaximumConcurrency`` (never below Lambda's minimum of 2),
and a batch that went through without one doubles it again, up to the value deployed
(``MaxConcurrency``). Each environment changes it at most once per ``cooldown_seconds``, and reads
it at most every ``RECHECK_SECONDS`` when it last saw it as deployed, so a busy pipeline costs the
Lambda control plane a call a minute per environment at most.

Lambda's ``MaximumConcurrency`` caps the concurrent batches of one mapping; reserved concurrency
would also throttle, but throttled SQS deliveries still use up receives (and end on the DLQ).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cutout.observability import logger

# The log line of every change the governor makes (``before``, ``after``, ``reason``): the soak reads it.
CHANGED_MESSAGE = "event source concurrency changed"

# Lambda's own bounds for an SQS event source's ScalingConfig.MaximumConcurrency.
LAMBDA_MIN_MAXIMUM_CONCURRENCY = 2
LAMBDA_MAX_MAXIMUM_CONCURRENCY = 1000
COOLDOWN_SECONDS = 60.0
# How often an environment that saw the concurrency as deployed looks again (another environment
# may have lowered it and ended before it could bring it back).
RECHECK_SECONDS = 600.0


class MappingConcurrency(Protocol):
    """The port: the event source mapping's ``ScalingConfig.MaximumConcurrency``."""

    def current(self) -> int | None:
        """The mapping's MaximumConcurrency (None: none set, Lambda's own scaling)."""
        ...

    def set(self, value: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Change:
    before: int
    after: int
    why: str


def next_concurrency(current: int, *, ceiling: int, rate_limited: bool) -> int:
    """The policy as a pure function: halve on a rate limit (not below 2), double back up to ``ceiling``."""
    floor = min(LAMBDA_MIN_MAXIMUM_CONCURRENCY, ceiling)
    if rate_limited:
        return max(floor, current // 2)
    return min(ceiling, max(current * 2, floor))


class ConcurrencyGovernor:
    """Moves the mapping's concurrency after each batch, by what the API said to the batch."""

    def __init__(
        self,
        mapping: MappingConcurrency,
        *,
        ceiling: int,
        cooldown_seconds: float = COOLDOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        metrics: Any = None,  # an observability.PipelineMetrics: ``count`` is used
    ) -> None:
        if not LAMBDA_MIN_MAXIMUM_CONCURRENCY <= ceiling <= LAMBDA_MAX_MAXIMUM_CONCURRENCY:
            raise ValueError(f"the deployed MaximumConcurrency must be 2..1000, not {ceiling}")
        self._mapping = mapping
        self._ceiling = ceiling
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._metrics = metrics
        self._lock = threading.Lock()
        self._last_look: float | None = None  # when this environment last read or changed it
        self._known: int | None = None  # what it was then

    def after_batch(self, *, rate_limited: int, answered: int) -> Change | None:
        """``rate_limited``: records the API still throttled; ``answered``: records that went through.

        Never raises: concurrency is an optimisation, the outcome of the batch does not depend on it.
        """
        if not rate_limited and not answered:
            return None
        with self._lock:
            now = self._clock()
            since = None if self._last_look is None else now - self._last_look
            if since is not None and since < self._cooldown:
                return None
            restored = self._known is not None and self._known >= self._ceiling
            if not rate_limited and restored and since is not None and since < RECHECK_SECONDS:
                return None  # as deployed when last seen: look again only now and then
            self._last_look = now
            try:
                return self._move(rate_limited=rate_limited > 0)
            except Exception as error:  # noqa: BLE001  (see the docstring)
                logger.warning("could not change the event source's concurrency", error=type(error).__name__)
                return None

    def _move(self, *, rate_limited: bool) -> Change | None:
        current = self._mapping.current()
        if current is None:
            current = self._ceiling  # no cap set: as deployed
        seen_before, self._known = self._known, current
        if not rate_limited and current < self._ceiling and current != seen_before:
            # Lowered by another environment since this one last looked (or before its first
            # look): its batches met the rate limit. Raising it at once would undo that within
            # seconds (any environment whose batch went through would), so the lowered value holds
            # a cooldown first: this environment raises it only if it finds it so again then.
            return None
        target = next_concurrency(current, ceiling=self._ceiling, rate_limited=rate_limited)
        if target == current:
            return None
        self._mapping.set(target)
        self._known = target
        why = "the API's rate limit" if rate_limited else "the API answers again"
        logger.warning(CHANGED_MESSAGE, before=current, after=target, reason=why)
        if self._metrics is not None:
            self._metrics.count("ConcurrencyLowered" if rate_limited else "ConcurrencyRestored")
        return Change(current, target, why)


class LambdaMappingConcurrency:
    """``MappingConcurrency`` on Lambda's ``Get``/``UpdateEventSourceMapping`` (the pause's permissions)."""

    def __init__(self, client: Any, *, uuid: Callable[[], str]) -> None:
        self._lambda = client
        self._uuid = uuid

    def current(self) -> int | None:
        answer = self._lambda.get_event_source_mapping(UUID=self._uuid())
        value = (answer.get("ScalingConfig") or {}).get("MaximumConcurrency")
        return None if value is None else int(value)

    def set(self, value: int) -> None:
        from botocore.exceptions import ClientError

        try:
            self._lambda.update_event_source_mapping(
                UUID=self._uuid(), ScalingConfig={"MaximumConcurrency": value}
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code not in ("ResourceInUseException", "ResourceConflictException"):
                raise
            # Another environment is changing the mapping right now: its change stands.
