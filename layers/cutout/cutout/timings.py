"""Where the time of one upload went: a generic stage timer the conductor opens per upload.

Any step, today's or one added later, times itself with ``with stage("normalisation"): ...``;
the timings belong to the upload being processed on this thread (records of a batch run on worker
threads), and a stage entered twice adds up. Outside an upload, ``stage`` times nothing.
At the end of an upload the conductor puts them in the upload's one structured log line and in an
EMF record (``PipelineMetrics.upload_finished``), with the object key and the API request id.

The names the pipeline uses today, in the order an upload meets them (stages that did not run are
absent): ``head``, ``unchanged_check``, ``validation``, ``normalisation``, ``ordering``,
``reservation``, ``paid_call``, ``result_download``, ``variants``, ``put``, ``event``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol

from cutout.observability import logger

STAGES = (
    "head",
    "unchanged_check",
    "validation",
    "normalisation",
    "ordering",
    "reservation",
    "paid_call",
    "result_download",
    "variants",
    "put",
    "event",
)


class StageTimings:
    """Milliseconds per stage of one upload, plus the whole."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._started = clock()
        self._ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = self._clock()
        try:
            yield
        finally:
            self._ms[name] = self._ms.get(name, 0.0) + (self._clock() - started) * 1000.0

    def stages_ms(self) -> dict[str, float]:
        """Each stage that ran, rounded to 0.1 ms, in pipeline order (unknown names last)."""
        order = {name: index for index, name in enumerate(STAGES)}
        names = sorted(self._ms, key=lambda name: (order.get(name, len(STAGES)), name))
        return {name: round(self._ms[name], 1) for name in names}

    def total_ms(self) -> float:
        return round((self._clock() - self._started) * 1000.0, 1)


_current = threading.local()


@contextmanager
def upload_timings(clock: Callable[[], float] = time.perf_counter) -> Iterator[StageTimings]:
    """Open the timings of the upload processed on this thread (nested opens keep the outer one)."""
    outer: StageTimings | None = getattr(_current, "timings", None)
    if outer is not None:
        yield outer
        return
    timings = StageTimings(clock)
    _current.timings = timings
    try:
        yield timings
    finally:
        _current.timings = None


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time ``name`` for the upload processed on this thread (nothing outside an upload)."""
    timings: StageTimings | None = getattr(_current, "timings", None)
    if timings is None:
        yield
        return
    with timings.stage(name):
        yield


def report_upload(
    metrics: UploadMetrics,
    timings: StageTimings,
    *,
    object_key: str,
    status: str,
    reason: str | None,
    request_id: str | None,
) -> None:
    """The upload's one summary log line and EMF record: where its time went, by stage."""
    stages_ms, total_ms = timings.stages_ms(), timings.total_ms()
    logger.info(
        "upload finished",
        object_key=object_key,
        status=status,
        reason=reason,
        request_id=request_id,
        stages_ms=stages_ms,
        total_ms=total_ms,
    )
    try:
        metrics.upload_finished(stages_ms, total_ms=total_ms, object_key=object_key, request_id=request_id)
    except Exception as error:  # noqa: BLE001  (a metric never decides an upload's outcome)
        logger.warning("could not emit the upload's timings", error=f"{type(error).__name__}: {error}")


class UploadMetrics(Protocol):
    """The part of ``cutout.observability.PipelineMetrics`` the report uses."""

    def upload_finished(
        self, stages_ms: Mapping[str, float], *, total_ms: float, object_key: str, request_id: str | None
    ) -> None: ...
