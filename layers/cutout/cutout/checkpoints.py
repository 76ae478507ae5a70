"""What the idempotency checkpoints share: how long a record lives and how its key is read.

Each checkpoint is a Powertools idempotent function whose record key is
``<prefix>#<md5 of [identity, replay]>``, with an explicit, versioned prefix per checkpoint:
Powertools' default prefix is the Lambda function's name plus the Python function's qualified name,
so renaming a method or replacing the function would orphan the records (and pay again). Change a
prefix's version only together with a migration of the records it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from cutout.events import UploadedObject
from cutout.outcome import Outcome

# Longer than the DLQ's 14-day retention: a replay within retention never pays twice.
IDEMPOTENCY_TTL_SECONDS = 15 * 24 * 3600


def checkpoint_config() -> IdempotencyConfig:
    """The one config of every checkpoint (register the Lambda context on it once per invocation)."""
    return IdempotencyConfig(
        event_key_jmespath="[identity, replay]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )


# The outcome checkpoint's record key prefix; the paid call's is cutout.paid_call.PAID_CALL_KEY_PREFIX.
OUTCOME_KEY_PREFIX = "cutout/outcome/v1"


class OutcomeCheckpoint:
    """The outcome, decided once per object version (and per DLQ replay: a replay's failure is tried
    again, its paid call stays shared). A duplicate gets the stored outcome; a decision under way
    elsewhere raises Powertools' ``IdempotencyAlreadyInProgressError`` (come back later)."""

    def __init__(self, persistence: BasePersistenceLayer, config: IdempotencyConfig) -> None:
        self._decide = idempotent_function(
            data_keyword_argument="request",
            persistence_store=persistence,
            config=config,
            key_prefix=OUTCOME_KEY_PREFIX,
        )(_decide_once)

    def decide(self, upload: UploadedObject, produce: Callable[[], Outcome]) -> Outcome:
        """The stored outcome of ``upload``, or ``produce()``'s, stored (only the request is keyed)."""
        request = {"identity": upload.identity, "replay": upload.replay_marker}
        return Outcome.from_dict(self._decide(request=request, produce=produce))


def _decide_once(*, request: dict[str, Any], produce: Callable[[], Outcome]) -> dict[str, Any]:
    del request  # the record's key only
    return produce().to_dict()


@dataclass(frozen=True, slots=True)
class IdempotencyStores:
    """One persistence layer per checkpoint (Powertools binds a layer to one function)."""

    outcomes: BasePersistenceLayer
    paid_calls: BasePersistenceLayer
