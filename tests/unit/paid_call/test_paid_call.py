"""The paid call step alone: at most one call per object version, money and memory accounted for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from cutout.checkpoints import checkpoint_config
from cutout.engine.aidge.errors import AidgeQuotaExhaustedError, EngineAnswerLostError
from cutout.engine.errors import RetryableEngineError
from cutout.engine.port import Background, CutoutOptions, ImageBytes, ImageUrl
from cutout.events import UploadedObject
from cutout.paid_call import PAID_CALL_KEY_PREFIX, PaidCall
from cutout.pixels import PixelBudget, request_body_working_set
from cutout.spending import PipelinePaused, SpendingGuard
from tests.fakes import FakeEngine, InMemoryBudget, InMemoryPersistenceLayer, RecordingMetrics

SOURCE = ImageUrl("https://input.example.test/shoe.jpg?signed")
FAR_DEADLINE = 10**9


class RecordingMemory(PixelBudget):
    """A large pixel budget that remembers every reservation made on it."""

    def __init__(self) -> None:
        super().__init__(10**12)
        self.reservations: list[int] = []

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[int]:
        self.reservations.append(nbytes)
        with super().reserve(nbytes) as held:
            yield held


class MinutesLeft:
    """The part of a Lambda context the checkpoints read: plenty of time left."""

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


class World:
    def __init__(self, engine: FakeEngine | None = None, budget: InMemoryBudget | None = None) -> None:
        self.engine = engine or FakeEngine()
        self.budget = budget or InMemoryBudget(daily=100)
        self.table: dict[str, Any] = {}
        self.metrics = RecordingMetrics()
        self.memory = RecordingMemory()
        config = checkpoint_config()
        config.register_lambda_context(MinutesLeft())
        self.step = PaidCall(
            engine=lambda: self.engine,
            checkpoints=InMemoryPersistenceLayer(self.table),
            config=config,
            options=CutoutOptions(background=Background.TRANSPARENT),
            spending=SpendingGuard(self.budget),
            memory=self.memory,
            metrics=self.metrics,
        )


def request_digest(upload: UploadedObject) -> str:
    """Powertools' key hash, written out: md5 of the JSON of ``[identity, repay marker]``."""
    request = json.dumps([upload.identity, None], sort_keys=True).encode()
    return hashlib.md5(request, usedforsecurity=False).hexdigest()


def counted(metrics: RecordingMetrics, name: str) -> int:
    return metrics.events.count(("count", name))


def upload(key: str = "shoes/red.jpg", replay_of: dict[str, Any] | None = None) -> UploadedObject:
    return UploadedObject(bucket="in", key=key, version_id="v1", etag="e1", size=10, replay_of=replay_of)


def test_the_checkpoint_key_is_the_one_stored_records_already_have() -> None:
    # Given the paid call step
    world = World()
    shoe = upload()
    # When an upload is paid for
    world.step.pay(shoe, SOURCE, FAR_DEADLINE)
    # Then its receipt is stored under "cutout/paid-call/v1#<md5 of [identity, null]>": the key the
    # records written before this step existed have, so a redelivery still finds them
    assert list(world.table) == [f"cutout/paid-call/v1#{request_digest(shoe)}"]
    assert PAID_CALL_KEY_PREFIX == "cutout/paid-call/v1"


def test_a_second_pay_for_the_same_object_version_returns_the_stored_receipt_without_calling() -> None:
    # Given an upload already paid for
    world = World()
    first = world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # When it is paid for again (a duplicate, a redelivery, a crash after paying)
    second = world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then the API was called once, the same receipt comes back and one unit of budget is spent
    assert len(world.engine.submits) == 1
    assert second == first
    assert world.budget.used == 1
    assert [event for event in world.metrics.events if event[0] == "api_call"] == [("api_call", 1)]


def test_another_object_version_is_a_call_of_its_own() -> None:
    # Given one upload paid for
    world = World()
    world.step.pay(upload("a.jpg"), SOURCE, FAR_DEADLINE)
    # When another key is paid for
    world.step.pay(upload("b.jpg"), SOURCE, FAR_DEADLINE)
    # Then each had its call
    assert len(world.engine.submits) == 2
    assert len(world.table) == 2


@pytest.mark.parametrize(
    ("replay_of", "calls", "repaid"),
    [
        ({"failed_at": "2026-12-01T00:00:00+00:00", "code": "x", "repay": True}, 2, 1),
        ({"failed_at": "2026-12-01T00:00:00+00:00", "code": "x"}, 1, 0),
    ],
)
def test_only_a_repay_replay_pays_again_and_says_so(
    replay_of: dict[str, Any], calls: int, repaid: int
) -> None:
    # Given an upload paid for once
    world = World()
    world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # When a DLQ replay of it is paid for, made with or without --repay
    world.step.pay(upload(replay_of=replay_of), SOURCE, FAR_DEADLINE)
    # Then only the --repay replay calls the API again, counted as RepaidOnPurpose
    assert len(world.engine.submits) == calls
    assert counted(world.metrics, "RepaidOnPurpose") == repaid


def test_a_spent_budget_pauses_without_calling() -> None:
    # Given a budget with nothing left
    budget = InMemoryBudget(daily=1)
    budget.used = 1
    world = World(budget=budget)
    # When an upload is paid for
    with pytest.raises(PipelinePaused) as paused:
        world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then we wait: no call, no receipt
    assert paused.value.reason.code == "budget_exhausted"
    assert world.engine.submits == []
    assert [record.status for record in world.table.values()] == []


def test_an_exhausted_quota_pauses_and_gives_the_units_back() -> None:
    # Given an API that answers "quota exhausted"
    world = World(engine=FakeEngine(fail_with=AidgeQuotaExhaustedError("no quota")))
    # When an upload is paid for
    with pytest.raises(PipelinePaused):
        world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then the call was not billed: its unit is released
    assert (world.budget.used, world.budget.released) == (0, 1)


@pytest.mark.parametrize(
    ("error", "used", "possibly_billed_twice"),
    [
        (RetryableEngineError("busy", code="aidge_busy"), 0, 0),  # certainly not billed: released
        (EngineAnswerLostError("read timeout"), 1, 1),  # maybe billed: the unit stays, and it is counted
    ],
)
def test_a_failed_call_keeps_its_unit_only_when_it_may_have_been_billed(
    error: RetryableEngineError, used: int, possibly_billed_twice: int
) -> None:
    # Given an API call that fails this way
    world = World(engine=FakeEngine(fail_with=error, fail_times=1))
    # When an upload is paid for
    with pytest.raises(type(error)):
        world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # Then the budget and the metrics say what it may have cost, and no receipt is stored
    assert world.budget.used == used
    assert counted(world.metrics, "PossiblyBilledTwice") == possibly_billed_twice
    assert [record.status for record in world.table.values()] == []
    # And the next attempt calls again (nothing was stored)
    world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    assert len(world.engine.submits) == 2


def test_a_base64_body_reserves_its_memory_and_a_url_reserves_none() -> None:
    # Given the step
    world = World()
    data = b"\xff\xd8" + b"0" * 5000
    # When one upload is sent as bytes and another as a URL
    world.step.pay(upload("bytes.jpg"), ImageBytes(data), FAR_DEADLINE)
    world.step.pay(upload("url.jpg"), SOURCE, FAR_DEADLINE)
    # Then the bytes' request body was reserved, the URL's took nothing
    assert world.memory.reservations == [request_body_working_set(len(data)), 0]


def test_the_same_call_under_way_elsewhere_is_not_made_twice() -> None:
    # Given a call whose checkpoint is held in progress (another worker is paying for it)
    world = World()
    world.step.pay(upload("other.jpg"), SOURCE, FAR_DEADLINE)
    (record,) = world.table.values()
    shoe = upload()
    in_progress = type(record)(
        idempotency_key=f"{PAID_CALL_KEY_PREFIX}#{request_digest(shoe)}",
        status="INPROGRESS",
        expiry_timestamp=record.expiry_timestamp,
        in_progress_expiry_timestamp=None,
    )
    world.table[in_progress.idempotency_key] = in_progress
    # When the same upload is paid for here
    with pytest.raises(IdempotencyAlreadyInProgressError):
        world.step.pay(shoe, SOURCE, FAR_DEADLINE)
    # Then no second call was made
    assert len(world.engine.submits) == 1


def test_a_result_not_the_reported_size_is_fetched_and_flagged() -> None:
    # Given a paid call whose result comes back another size than the API reported
    world = World()
    paid = world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    world.engine.actual_size = (200, 150)
    # When it is fetched
    cutout = world.step.fetch(paid, FAR_DEADLINE)
    # Then it is kept (paid for) and flagged, and fetching again calls no API
    assert (cutout.width, cutout.height, cutout.reported_size) == (200, 150, (400, 300))
    assert counted(world.metrics, "ResultSizeMismatch") == 1
    world.step.fetch(paid, FAR_DEADLINE)
    assert (len(world.engine.submits), world.engine.fetches) == (1, 2)


def test_a_result_of_the_reported_size_is_not_flagged() -> None:
    # Given a paid call whose result is the size reported
    world = World()
    paid = world.step.pay(upload(), SOURCE, FAR_DEADLINE)
    # When it is fetched
    cutout = world.step.fetch(paid, FAR_DEADLINE)
    # Then nothing is flagged
    assert cutout.reported_size is None
    assert counted(world.metrics, "ResultSizeMismatch") == 0
