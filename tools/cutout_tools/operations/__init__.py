"""Operating a deployed stack: read and replay the dead-letter queue, backfill existing objects.

The commands (``cutout dlq list|replay``, ``cutout backfill``) are thin shells over this API, which
takes boto3 clients and a ``StackResources`` so scripts and tests can use it without a stack name.
"""

from cutout_tools.operations.backfill import (
    BackfillSummary,
    ExistingObject,
    S3Location,
    backfill,
    existing_objects,
    s3_notification_for,
)
from cutout_tools.operations.dead_letters import (
    REDRIVEN_REASON,
    DeadLetter,
    ReplaySummary,
    peek_dead_letters,
    read_dead_letter,
    replay_dead_letters,
)
from cutout_tools.operations.stack import (
    LOCAL_STACK_NAME,
    OUTPUT_NAMES,
    OperationsError,
    StackNotFoundError,
    StackResources,
    aws_session,
    resolve_stack,
)

__all__ = [
    "LOCAL_STACK_NAME",
    "OUTPUT_NAMES",
    "REDRIVEN_REASON",
    "BackfillSummary",
    "DeadLetter",
    "ExistingObject",
    "OperationsError",
    "ReplaySummary",
    "S3Location",
    "StackNotFoundError",
    "StackResources",
    "aws_session",
    "backfill",
    "existing_objects",
    "peek_dead_letters",
    "read_dead_letter",
    "replay_dead_letters",
    "resolve_stack",
    "s3_notification_for",
]
