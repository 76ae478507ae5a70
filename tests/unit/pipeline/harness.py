"""A pipeline wired to in-memory fakes of every port (imported by the pipeline unit tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from cutout.announcements import EventPublisher
from cutout.checkpoints import IdempotencyStores
from cutout.dead_letter.checkpoint import DeadLetterCheckpoint
from cutout.engine.port import ResumableBackgroundRemover
from cutout.events import UploadedObject
from cutout.pipeline.outcome import Outcome
from cutout.pipeline.process_upload import UploadProcessor
from cutout.pixels import PixelBudget
from cutout.profiles import ProfileSet
from cutout.quality_gate import QualityThresholds
from cutout.redelivery.delivery import Delivery
from cutout.settings import Settings
from cutout.spending import SpendingGuard
from cutout.wiring import build_steps
from tests.fakes import (
    FakeEngine,
    FakeLambdaContext,
    InMemoryAttemptCounter,
    InMemoryObjectStore,
    InMemoryPersistenceLayer,
    RecordingDeadLetterQueue,
    RecordingMetrics,
    image_bytes,
)

INPUT = "cutout-input-test"
OUTPUT = "cutout-output-test"
FAR_DEADLINE = 10**9


def settings(**overrides: str) -> Settings:
    environment = {
        "OUTPUT_BUCKET": OUTPUT,
        "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        "IDEMPOTENCY_TABLE": "idempotency",
        "AIDGE_SECRET_NAME": "cutout/aidge",
        "MAX_RECEIVE_COUNT": "3",
        **overrides,
    }
    return Settings.from_env(environment)


@dataclass
class Harness:
    store: InMemoryObjectStore
    engine: FakeEngine
    dlq: RecordingDeadLetterQueue
    metrics: RecordingMetrics
    processor: UploadProcessor
    spending: SpendingGuard
    settings: Settings
    idempotency_table: dict[str, Any] = field(default_factory=dict)

    def upload(self, key: str, data: bytes | None = None, versioned: bool = True) -> UploadedObject:
        stored = self.store.add(INPUT, key, image_bytes() if data is None else data, versioned)
        return UploadedObject(
            bucket=INPUT, key=key, version_id=stored.version_id, etag=stored.etag, size=len(stored.data)
        )

    def process(self, upload: UploadedObject, receive_count: int = 1) -> Outcome:
        delivery = Delivery(receive_count=receive_count, max_receive_count=3)
        return self.processor.process(upload, delivery, deadline=FAR_DEADLINE)

    def dlq_records(self) -> list[dict[str, Any]]:
        return [json.loads(record) for record in self.dlq.records]

    def outputs(self) -> list[tuple[str, str, str, dict[str, str]]]:
        return [put for put in self.store.puts if put[0] == OUTPUT]


def build_harness(
    engine: FakeEngine | None = None,
    attempts: InMemoryAttemptCounter | None = None,
    *,
    profiles: ProfileSet | None = None,
    spending: SpendingGuard | None = None,
    publisher: EventPublisher | None = None,
    quality: QualityThresholds | None = None,
    pixels: PixelBudget | None = None,
    dead_letters: DeadLetterCheckpoint | None = None,
    persistence: type[InMemoryPersistenceLayer] = InMemoryPersistenceLayer,
    remover: ResumableBackgroundRemover | None = None,
    **setting_overrides: str,
) -> Harness:
    """``remover``: what the pipeline calls when it is not ``engine`` itself (a wrapper that refuses
    before the fake bills, say); ``engine`` stays the fake the harness reads the calls from."""
    store, dlq, metrics = InMemoryObjectStore(), RecordingDeadLetterQueue(), RecordingMetrics()
    engine = engine or FakeEngine()
    table: dict[str, Any] = {}
    spending = spending or SpendingGuard()
    configured = settings(**setting_overrides)
    steps = build_steps(
        configured,
        store=store,
        engine=lambda: remover or engine,
        dead_letter_queue=dlq,
        idempotency=IdempotencyStores(persistence(table), persistence(table)),
        metrics=metrics,
        attempts=attempts,
        profiles=profiles,
        spending=spending,
        publisher=publisher,
        quality=quality,
        pixels=pixels,
        dead_letters=dead_letters,
    )
    processor = UploadProcessor(steps)
    processor.register_lambda_context(FakeLambdaContext())
    return Harness(store, engine, dlq, metrics, processor, spending, configured, table)


@pytest.fixture
def harness() -> Harness:
    return build_harness()
