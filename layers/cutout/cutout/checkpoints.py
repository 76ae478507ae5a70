"""What the idempotency checkpoints share: how long a record lives and how its key is read.

Each checkpoint is a Powertools idempotent function whose record key is
``<prefix>#<md5 of [identity, replay]>``, with an explicit, versioned prefix per checkpoint:
Powertools' default prefix is the Lambda function's name plus the Python function's qualified name,
so renaming a method or replacing the function would orphan the records (and pay again). Change a
prefix's version only together with a migration of the records it names.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

# Longer than the DLQ's 14-day retention: a replay within retention never pays twice.
IDEMPOTENCY_TTL_SECONDS = 15 * 24 * 3600


def checkpoint_config() -> IdempotencyConfig:
    """The one config of every checkpoint (register the Lambda context on it once per invocation)."""
    return IdempotencyConfig(
        event_key_jmespath="[identity, replay]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )
