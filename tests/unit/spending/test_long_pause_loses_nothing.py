"""A pause loses nothing, however long (issue 24, item 1): weeks simulated on an injected clock.

The real handler, conductor, budget guard, pause controller, schedule and backlog refresher run
against fakes: a simulated SQS work queue that keeps SQS's documented rules over weeks (14-day
retention from the send, redrive after 5 receives, visibility, delays; moto cannot run for weeks),
the event source mapping played hour by hour (a batch of 10 while enabled), and the template's
daily schedule at 00:05 UTC. A control run without the refresher shows the same clock and queue
do lose uploads, so the tests can fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cutout.engine.aidge.errors import AidgeQuotaExhaustedError
from cutout.entrypoint import Pipeline
from cutout.redelivery.backlog import BacklogRefresher
from cutout.spending import (
    BudgetExhausted,
    BudgetLimits,
    BudgetStatus,
    PauseLatch,
    Period,
    Reservation,
    SpendingGuard,
)
from cutout.spending.pause import PauseController
from cutout_tools.local_stack.lambda_runtime import LocalLambdaContext, sqs_event_from_messages
from tests.fakes import (
    FakeEngine,
    FakeEventSourceSwitch,
    InMemoryPauseMarker,
    RecordingPauseMetrics,
    SimulatedSqsQueue,
)
from tests.handler import load_lambda_handler
from tests.unit.pipeline.harness import INPUT, build_harness

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/work"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work"
HOUR = 3600.0
DAY = 24 * HOUR


class Clock:
    """Simulated UTC time: ``seconds()`` for the queue, ``utc()`` for the budget and the marker."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed = 0.0

    def seconds(self) -> float:
        return self.start.timestamp() + self.elapsed

    def utc(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)


class MonthlyBudget:
    """The DynamoDB ledger's monthly cap on the simulated clock: one counter per UTC month."""

    def __init__(self, monthly: int, clock: Clock) -> None:
        self.limits = BudgetLimits(monthly=monthly)
        self._clock = clock
        self.used: dict[str, int] = {}

    def reserve(self, units: int) -> Reservation:
        period = Period.at(self._clock.utc())
        used = self.used.get(period.month, 0)
        if used + units > self.limits.monthly:
            raise BudgetExhausted(
                f"the monthly budget of {self.limits.monthly} units for {period.month} is spent"
            )
        self.used[period.month] = used + units
        return Reservation(units, period, used + units, used + units)

    def release(self, reservation: Reservation) -> None:
        self.used[reservation.period.month] -= reservation.units

    def status(self) -> BudgetStatus:
        period = Period.at(self._clock.utc())
        used = self.used.get(period.month, 0)
        return BudgetStatus(self.limits, period, used, used)


class QuotaExhaustedUntil:
    """The Aidge account's quota is exhausted until ``until`` (unbilled refusals), then topped up."""

    def __init__(self, engine: FakeEngine, clock: Clock, until: datetime) -> None:
        self.engine, self._clock, self._until = engine, clock, until
        self.engine_name = engine.engine_name
        self.refusals = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        if self._clock.utc() < self._until:
            self.refusals += 1
            raise AidgeQuotaExhaustedError("resources have been exhausted (simulated quota)")
        return self.engine.submit(*args, **kwargs)

    def fetch(self, *args: Any, **kwargs: Any) -> Any:
        return self.engine.fetch(*args, **kwargs)


class QueueVisibility:
    """The pipeline's retry schedule applied to the simulated queue (ChangeMessageVisibility)."""

    def __init__(self, queue: SimulatedSqsQueue) -> None:
        self.queue = queue

    def redeliver_after(self, redeliveries: Any) -> None:
        for item in redeliveries:
            self.queue.change_message_visibility(
                QueueUrl=QUEUE_URL, ReceiptHandle=item.receipt_handle, VisibilityTimeout=item.delay_seconds
            )


def s3_event(key: str, version_id: str, etag: str, size: int, when: datetime) -> str:
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": when.isoformat().replace("+00:00", "Z"),
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": INPUT, "arn": f"arn:aws:s3:::{INPUT}"},
            "object": {
                "key": key,
                "size": size,
                "eTag": etag,
                "versionId": version_id,
                "sequencer": f"{int(when.timestamp()):016X}",
            },
        },
    }
    return json.dumps({"Records": [record]})


@dataclass
class Simulation:
    """The pipeline, its queue and its schedule on one clock."""

    clock: Clock
    queue: SimulatedSqsQueue
    switch: FakeEventSourceSwitch
    engine: FakeEngine
    harness: Any
    pipeline: Pipeline
    handler: Callable[..., dict[str, Any]]
    metrics: RecordingPauseMetrics
    uploaded: list[str] = field(default_factory=list)
    schedule_answers: list[dict[str, Any]] = field(default_factory=list)

    def upload(self, key: str) -> None:
        upload = self.harness.upload(key)
        body = s3_event(key, upload.version_id, upload.etag, upload.size, self.clock.utc())
        self.queue.send_message(QueueUrl=QUEUE_URL, MessageBody=body)
        self.uploaded.append(key)

    def poll(self, batches: int = 50) -> None:
        """Lambda's event source mapping: batches of 10 while the mapping is enabled."""
        for _ in range(batches):
            if not self.switch.enabled:
                return
            messages = self.queue.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return
            event = sqs_event_from_messages(messages, QUEUE_ARN, "us-east-1")
            response = self.handler(event, LocalLambdaContext(), pipeline=self.pipeline)
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.queue.delete_message(QueueUrl=QUEUE_URL, ReceiptHandle=message["ReceiptHandle"])

    def schedule(self) -> None:
        """The template's ResumeAtNextPeriod: {"cutout": "resume", "by": "schedule"}."""
        context = LocalLambdaContext(timeout_seconds=120)
        self.schedule_answers.append(
            self.handler({"cutout": "resume", "by": "schedule"}, context, pipeline=self.pipeline)
        )

    def run(self, days: int, uploads_at: Callable[[int, int], list[str]]) -> None:
        """Hour by hour: the uploads of that hour, the schedule at 00:05 UTC, the mapping's polls."""
        for hour in range(days * 24):
            day, hour_of_day = divmod(hour, 24)
            for key in uploads_at(day, hour_of_day):
                self.upload(key)
            if hour_of_day == 0:
                self.clock.elapsed += 5 * 60
                self.schedule()
                self.clock.elapsed -= 5 * 60
            self.poll()
            self.clock.elapsed += HOUR

    def outputs_by_key(self) -> set[str]:
        """The uploads whose cut-out is stored (single cut-out mode since 0.3.0: ``<key>.png``)."""
        return {key.removesuffix(".png") for _, key, *_ in self.harness.outputs()}


def simulation(
    start: datetime, *, spending: SpendingGuard | None, engine: Any, clock: Clock, refresh: bool
) -> Simulation:
    queue = SimulatedSqsQueue(clock.seconds)
    switch, metrics = FakeEventSourceSwitch(), RecordingPauseMetrics()
    fake = engine.engine if isinstance(engine, QuotaExhaustedUntil) else engine
    # The single cut-out mode: what is tested is the queue's weeks, not the variants (kept cheap).
    # the quota's refusals come before the fake bills
    harness = build_harness(fake, spending=spending, remover=engine, MAX_RECEIVE_COUNT="5")
    pauser = PauseController(
        switch,
        None,
        lambda body: queue.send_message(QueueUrl=QUEUE_URL, MessageBody=body),
        marker=InMemoryPauseMarker(),
        metrics=metrics,
        latch=harness.spending.latch,
        backlog=BacklogRefresher(queue, QUEUE_URL) if refresh else None,
        now=clock.utc,
    )
    settings = harness.settings
    pipeline = Pipeline(
        settings,
        harness.processor,
        harness.dlq,
        message_visibility=QueueVisibility(queue),
        pauser=pauser,
        spending=harness.spending,
    )
    return Simulation(clock, queue, switch, fake, harness, pipeline, load_lambda_handler(), metrics)


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    """Weeks of batches log thousands of lines: warnings and errors only, for these tests."""
    from cutout.observability import logger

    level = logger.log_level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(level)


def monthly_cap_run(refresh: bool) -> Simulation:
    # December 2026: a monthly cap of 100; 100 uploads on the 1st spend it, and 40 more arrive on
    # the 1st to the 30th while the pipeline is paused, until January's budget resumes it.
    clock = Clock(datetime(2026, 12, 1, tzinfo=UTC))
    latch = PauseLatch(hold_seconds=60, clock=clock.seconds)
    spending = SpendingGuard(MonthlyBudget(100, clock), latch=latch)
    sim = simulation(clock.start, spending=spending, engine=FakeEngine(), clock=clock, refresh=refresh)

    def uploads_at(day: int, hour: int) -> list[str]:
        if day == 0 and hour == 1:
            return [f"first/{number}.jpg" for number in range(101)]
        if day < 30 and hour == 12 and day % 3 == 0:
            return [f"later/{day}-{number}.jpg" for number in range(4)]
        return []

    sim.run(days=33, uploads_at=uploads_at)
    return sim


def quota_run(refresh: bool) -> Simulation:
    # An Aidge quota exhausted for the first 20 days (no budget cap): 120 uploads over 10 days, more
    # than the one batch a day that the daily resume receives before the quota pauses it again.
    clock = Clock(datetime(2026, 12, 1, tzinfo=UTC))
    latch = PauseLatch(hold_seconds=60, clock=clock.seconds)
    engine = QuotaExhaustedUntil(FakeEngine(), clock, until=clock.start + timedelta(days=20))
    sim = simulation(
        clock.start, spending=SpendingGuard(latch=latch), engine=engine, clock=clock, refresh=refresh
    )

    def uploads_at(day: int, hour: int) -> list[str]:
        return [f"quota/{day}-{number}.jpg" for number in range(12)] if day < 10 and hour == 9 else []

    sim.run(days=23, uploads_at=uploads_at)
    return sim


def assert_lost_nothing(sim: Simulation) -> None:
    assert sim.queue.expired == []
    assert sim.queue.dlq == []
    assert sim.harness.dlq_records() == []
    assert sim.outputs_by_key() == set(sim.uploaded)
    assert len(sim.engine.submits) == len(sim.uploaded)  # billed exactly once each
    assert sim.queue.waiting() == 0
    assert sim.queue.oldest_age_seen < 14 * DAY - DAY  # never within a day of SQS's retention


def test_a_31_day_monthly_cap_pause_loses_nothing_and_bills_each_upload_once() -> None:
    # Given December's cap spent on the 1st and 40 uploads waiting until January
    sim = monthly_cap_run(refresh=True)
    # Then every upload was processed after the resume, billed once, nothing expired or on a DLQ
    assert len(sim.uploaded) == 141
    assert_lost_nothing(sim)
    # And every scheduled run of December found it paused and refreshed the backlog
    paused_runs = [answer for answer in sim.schedule_answers if answer.get("refreshed")]
    assert len(paused_runs) >= 30
    assert any(answer.get("resumed") for answer in sim.schedule_answers)
    assert 1 in sim.metrics.paused_values


def test_a_20_day_quota_pause_loses_nothing_and_bills_each_upload_once() -> None:
    # Given an exhausted quota that re-pauses the pipeline every day for 20 days
    sim = quota_run(refresh=True)
    # Then every upload was processed once the quota came back, billed once, nothing lost
    assert len(sim.uploaded) == 120
    assert_lost_nothing(sim)
    assert sim.engine.submits  # paid only after the quota came back
    resumes = [answer for answer in sim.schedule_answers if answer.get("resumed")]
    assert len(resumes) >= 19  # each day's run tried again (and refreshed first)


@pytest.mark.parametrize("run", [monthly_cap_run, quota_run], ids=["monthly-cap", "quota"])
def test_without_the_refresh_the_same_pause_loses_uploads(run: Callable[[bool], Simulation]) -> None:
    # Given the same weeks without the backlog's refresh (the control)
    sim = run(False)
    # Then SQS's retention (or the redrive) took uploads: what the refresh prevents
    lost = len(sim.queue.expired) + len(sim.queue.dlq)
    assert lost > 0
    assert len(sim.outputs_by_key()) < len(sim.uploaded)
