"""What the paid call tells the operator, and the shape of its contract.

The paid call's latency is the ``ApiLatency`` metric (milliseconds, the call alone: neither the
budget's reservation nor the checkpoint is counted), held over a range of start times and durations
with a clock the test controls; a result of the wrong size is logged with both sizes, width first
(a non-square result, so a swapped or repeated side shows). The step is built by name only, and a
receipt, once paid, cannot be changed in place.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.checkpoints import checkpoint_config
from cutout.engine.port import Background, CutoutOptions, ImageUrl
from cutout.events import UploadedObject
from cutout.paid_call import PaidCall
from cutout.paid_call.step import Paid
from cutout.pixels import PixelBudget
from cutout.spending import SpendingGuard
from tests.fakes import FakeEngine, InMemoryBudget, InMemoryPersistenceLayer, RecordingMetrics

SOURCE = ImageUrl("https://input.example.test/shoe.jpg?signed")
FAR_DEADLINE = 10**9


class TimedMetrics(RecordingMetrics):
    """``RecordingMetrics`` that also keeps the latency each paid call reported."""

    def __init__(self) -> None:
        super().__init__()
        self.latencies_ms: list[float] = []

    def api_call(self, latency_ms: float, usage: int) -> None:
        self.latencies_ms.append(latency_ms)
        super().api_call(latency_ms, usage)


class MinutesLeft:
    def get_remaining_time_in_millis(self) -> int:
        return 600_000


class ScriptedClock:
    """A monotonic clock that answers the given readings in turn (the call's start, then its end)."""

    def __init__(self, *readings: float) -> None:
        self._readings = list(readings)

    def __call__(self) -> float:
        return self._readings.pop(0)


def paid_call_step(
    engine: FakeEngine, metrics: RecordingMetrics, clock: Callable[[], float] | None = None
) -> PaidCall:
    config = checkpoint_config()
    config.register_lambda_context(MinutesLeft())
    table: dict[str, Any] = {}
    extra = {} if clock is None else {"clock": clock}
    return PaidCall(
        engine=lambda: engine,
        checkpoints=InMemoryPersistenceLayer(table),
        config=config,
        options=CutoutOptions(background=Background.TRANSPARENT),
        spending=SpendingGuard(InMemoryBudget(daily=100)),
        memory=PixelBudget(10**12),
        metrics=metrics,
        **extra,
    )


def upload(key: str = "shoes/red.jpg") -> UploadedObject:
    return UploadedObject(bucket="in", key=key, version_id="v1", etag="e1", size=10)


@settings(max_examples=60, deadline=None)
@given(
    started=st.floats(min_value=0.0, max_value=10**6, allow_nan=False, allow_infinity=False),
    seconds=st.floats(min_value=0.001, max_value=120.0, allow_nan=False, allow_infinity=False),
)
def test_the_paid_call_reports_its_own_duration_in_milliseconds(started: float, seconds: float) -> None:
    # Given a paid call that starts at any moment of the monotonic clock and lasts any time
    metrics = TimedMetrics()
    step = paid_call_step(FakeEngine(), metrics, ScriptedClock(started, started + seconds))
    # When an upload is paid for
    step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then one ApiLatency value is reported: the call's own duration, in milliseconds
    (latency,) = metrics.latencies_ms
    assert latency == pytest.approx(((started + seconds) - started) * 1000.0, rel=1e-9, abs=1e-6)
    assert [event for event in metrics.events if event[0] == "api_call"] == [("api_call", 1)]


def test_a_quarter_second_call_is_250_milliseconds() -> None:
    # Given a paid call that starts at 100 s and ends at 100.25 s on the monotonic clock
    metrics = TimedMetrics()
    step = paid_call_step(FakeEngine(), metrics, ScriptedClock(100.0, 100.25))
    # When an upload is paid for
    step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then exactly 250 ms are reported (not seconds, not the clock's own reading)
    assert metrics.latencies_ms == [250.0]


def test_a_stored_receipt_reports_no_latency_again() -> None:
    # Given an upload already paid for
    metrics = TimedMetrics()
    step = paid_call_step(FakeEngine(), metrics, ScriptedClock(5.0, 6.0))
    step.pay(upload(), SOURCE, FAR_DEADLINE)
    # When it is paid for again (a redelivery): the receipt comes from the checkpoint
    step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then only the one real call was timed
    assert metrics.latencies_ms == [1000.0]


@pytest.mark.parametrize(("reported", "actual"), [((400, 300), (200, 150)), ((300, 400), (150, 201))])
def test_a_result_of_another_size_is_logged_with_both_sizes_width_first(
    reported: tuple[int, int], actual: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a paid call whose engine reported one (non-square) size and returns another
    engine = FakeEngine()
    step = paid_call_step(engine, RecordingMetrics())
    step.options = CutoutOptions(
        background=Background.TRANSPARENT, target_width=reported[0], target_height=reported[1]
    )
    paid = step.pay(upload(), SOURCE, FAR_DEADLINE)
    engine.actual_size = actual
    # When its result is fetched
    step.fetch(paid, FAR_DEADLINE)
    # Then the warning says what was reported and what came, each as width x height
    [warning] = [vars(r) for r in caplog.records if r.getMessage().startswith("the result is not the size")]
    assert warning["reported"] == f"{reported[0]}x{reported[1]}"
    assert warning["actual"] == f"{actual[0]}x{actual[1]}"


def test_the_step_is_built_by_name_only() -> None:
    # Given the paid call's collaborators, in the order of its signature
    config = checkpoint_config()
    arguments = (
        FakeEngine,
        InMemoryPersistenceLayer({}),
        config,
        CutoutOptions(background=Background.TRANSPARENT),
        SpendingGuard(InMemoryBudget(daily=1)),
        PixelBudget(10**9),
        RecordingMetrics(),
    )
    # When it is built from them by position
    # Then it refuses: a budget passed where the memory goes must never be taken silently
    with pytest.raises(TypeError):
        PaidCall(*arguments)  # type: ignore[call-arg]


def test_a_receipt_once_paid_cannot_be_swapped_in_place() -> None:
    # Given the receipt of a paid call
    paid = paid_call_step(FakeEngine(), RecordingMetrics()).pay(upload(), SOURCE, FAR_DEADLINE)
    other = paid_call_step(FakeEngine(), RecordingMetrics()).pay(upload("b.jpg"), SOURCE, FAR_DEADLINE)
    # When something tries to point it at another result
    # Then it refuses: what was paid for is what is fetched
    with pytest.raises(dataclasses.FrozenInstanceError):
        paid.receipt = other.receipt  # type: ignore[misc]
    assert isinstance(paid, Paid)
