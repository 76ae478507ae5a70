"""The steps the conductor runs, as one typed, frozen object (built by ``cutout.wiring.build_steps``).

Each field is what the conductor needs of a step, as a protocol: the production classes fit them,
and the conductor's own tests pass fakes (``tests/unit/pipeline/test_conductor.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

from cutout.deliver import DeliveryFlow
from cutout.engine.port import Cutout, CutoutReceipt, ImageSource
from cutout.events import UploadedObject
from cutout.events.identity import ResolvedUpload
from cutout.failures import FailureReason
from cutout.observability import PipelineMetrics
from cutout.outcome import Outcome
from cutout.paid_call import Paid
from cutout.preparation import PreparedSource
from cutout.redelivery.delivery import Delivery
from cutout.storage import ObjectHead


class LookUp(Protocol):
    """``cutout.storage.source_lookup.SourceLookup``."""

    def identify(self, upload: UploadedObject) -> ResolvedUpload[ObjectHead]: ...

    def head(self, upload: UploadedObject, known: ObjectHead | None) -> ObjectHead: ...


class DecideOnce(Protocol):
    """``cutout.checkpoints.OutcomeCheckpoint``: one outcome per object version (and replay)."""

    def decide(self, upload: UploadedObject, produce: Callable[[], Outcome]) -> Outcome: ...


class Prepare(Protocol):
    """``cutout.preparation.SourcePreparation``: inspect, then the source to pay for (or a passthrough)."""

    def prepare(self, upload: UploadedObject, head: ObjectHead) -> PreparedSource: ...


class Pay(Protocol):
    """``cutout.paid_call.PaidCall``: at most one paid call per object version; its result, free."""

    def pay(self, upload: UploadedObject, source: ImageSource, deadline: float) -> Paid: ...

    def fetch(self, paid: Paid, deadline: float) -> Cutout: ...


class Retry(Protocol):
    """``cutout.redelivery.retry.RetryDecision``."""

    def goes_back_to_the_queue(
        self, failure: FailureReason, upload: UploadedObject, delivery: Delivery
    ) -> bool: ...

    def final_failure(self, failure: FailureReason, delivery: Delivery) -> FailureReason: ...


class RecordFailure(Protocol):
    """``cutout.dead_letter.record.DeadLetters``: one DLQ record per upload."""

    def recorded(self, subject: str) -> dict[str, Any] | None: ...

    def record_failure(
        self,
        upload: UploadedObject,
        failure: FailureReason,
        delivery: Delivery,
        receipt: CutoutReceipt | None,
        *,
        subject: str,
    ) -> Outcome: ...


class Announce(Protocol):
    """``cutout.announcements.Announcer``."""

    def announce(self, announcement: dict[str, Any] | None, delivery: Delivery) -> None: ...


@dataclass(frozen=True)
class Steps:
    """Every step of one upload, in the order the conductor runs them."""

    look_up: LookUp
    outcomes: DecideOnce
    prepare: Prepare
    paid_call: Pay
    deliver: DeliveryFlow
    retry: Retry
    dead_letters: RecordFailure
    announce: Announce
    metrics: PipelineMetrics
    # The checkpoints' shared config: the Lambda context is registered on it once per invocation.
    checkpoint_config: IdempotencyConfig
