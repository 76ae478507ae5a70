"""The paid call: at most one per object version, whatever happens around it.

``PaidCall.pay`` reserves the budget (or pauses: we wait, we do not fail), reserves the memory of
the request body, submits the source and keeps the receipt in the paid-call checkpoint the moment
the API answers, before anything else can fail. A duplicate, a crash after paying, a redelivery
or a DLQ replay finds the receipt there and does not call the API again; only a replay made with
``cutout dlq replay --repay`` has a checkpoint of its own (``repay_marker``), so pays once more on
purpose (metric ``RepaidOnPurpose``). ``PaidCall.fetch`` downloads the result the receipt names
(free: a failed download is fetched again from the same receipt) and flags a result that is not
the size the API reported.

An answer lost after sending (``engine_answer_lost``: possibly billed) counts ``PossiblyBilledTwice``:
its redelivery pays again, and that is the only way an object can ever be billed twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from cutout.engine.errors import EngineError
from cutout.engine.port import (
    Cutout,
    CutoutOptions,
    CutoutReceipt,
    ImageBytes,
    ImageSource,
    ResumableBackgroundRemover,
)
from cutout.events import UploadedObject
from cutout.observability import PipelineMetrics, logger
from cutout.pixels import PixelBudget, request_body_working_set
from cutout.spending import SpendingGuard

# The checkpoint's record key prefix (see cutout.checkpoints): the records already stored under it
# are what keeps a redelivery from paying again, so it never changes without a migration.
PAID_CALL_KEY_PREFIX = "cutout/paid-call/v1"


@dataclass(frozen=True, slots=True)
class Paid:
    """A paid call's receipt: the money is spent, the result can be fetched (again) for free."""

    receipt: CutoutReceipt


def repay_marker(upload: UploadedObject) -> str | None:
    """``None`` (the object version's one paid call), or a replay's own for ``--repay`` replays."""
    if not upload.replay_of or not upload.replay_of.get("repay"):
        return None
    return f"repay:{upload.replay_marker}"


class PaidCall:
    """The paid call of one object version (and of each ``--repay`` replay), made at most once."""

    def __init__(
        self,
        *,
        engine: Callable[[], ResumableBackgroundRemover],
        checkpoints: BasePersistenceLayer,
        config: IdempotencyConfig,
        options: CutoutOptions,
        spending: SpendingGuard,
        memory: PixelBudget,
        metrics: PipelineMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self._engine = engine
        self._spending = spending
        self._memory = memory
        self._metrics = metrics
        self._clock = clock
        self._pay_once = idempotent_function(
            data_keyword_argument="request",
            persistence_store=checkpoints,
            config=config,
            key_prefix=PAID_CALL_KEY_PREFIX,
        )(self._pay)

    def pay(self, upload: UploadedObject, source: ImageSource, deadline: float) -> Paid:
        """The receipt of ``upload``'s paid call: the stored one, or a new call's.

        Raises ``PipelinePaused`` when we cannot pay (spent budget, exhausted quota), the engine's
        ``FailureReason`` when the call failed, and Powertools' ``IdempotencyAlreadyInProgressError``
        while the same call is under way elsewhere.
        """
        request = {"identity": upload.identity, "replay": repay_marker(upload)}
        stored: dict[str, Any] = self._pay_once(request=request, source=source, deadline=deadline)
        return Paid(CutoutReceipt.from_dict(stored))

    def fetch(self, paid: Paid, deadline: float) -> Cutout:
        """The result ``paid`` names (no new call: a failed download is fetched again for free)."""
        cutout = self._engine().fetch(paid.receipt, deadline=deadline)
        if cutout.reported_size is not None:  # a valid image, just not the size reported: paid for,
            self._metrics.count("ResultSizeMismatch")  # so stored and flagged, not thrown away
            logger.warning(
                "the result is not the size the API reported; stored and flagged",
                reported=f"{cutout.reported_size[0]}x{cutout.reported_size[1]}",
                actual=f"{cutout.width}x{cutout.height}",
            )
        return cutout

    def _pay(self, *, request: dict[str, Any], source: ImageSource, deadline: float) -> dict[str, Any]:
        """The call itself, run only when the checkpoint holds no receipt for ``request``."""
        reservation = self._spending.reserve()  # raises PipelinePaused when the budget is spent
        started = self._clock()
        # base64 request bodies are memory too: bytes, their base64 text and the JSON body.
        body_bytes = request_body_working_set(len(source.data)) if isinstance(source, ImageBytes) else 0
        try:
            with self._memory.reserve(body_bytes):
                receipt = self._engine().submit(source, self.options, deadline=deadline)
        except Exception as error:
            if isinstance(error, EngineError) and error.paid is None:  # sent, answer lost: pays again
                self._metrics.count("PossiblyBilledTwice")
                logger.warning("the answer of a paid call was lost after sending", reason=error.code)
            self._spending.after_failure(reservation, error)  # release if unbilled; pause on exhausted quota
            raise
        self._metrics.api_call((self._clock() - started) * 1000.0, receipt.usage)
        if request.get("replay") is not None:
            self._metrics.count("RepaidOnPurpose")
        logger.info("paid call succeeded", request_id=receipt.request_id, usage=receipt.usage)
        return receipt.to_dict()
