"""One error tree for every engine (see ``cutout.failures.FailureReason`` for the shape).

``RetryableEngineError``: the same request may succeed later (5xx, rate limits, timeouts).
``PermanentEngineError``: this input will never succeed as it is; never retried, never re-paid.
"""

from __future__ import annotations

from typing import ClassVar

from cutout.failures import FailureReason


class EngineError(FailureReason):
    """Base of the engine tree. ``paid``: billed (``True``), possibly billed (``None``), or not."""

    code = "engine_error"
    paid: ClassVar[bool | None] = False


class RetryableEngineError(EngineError):
    """Worth another try later, with backoff."""

    code = "engine_unavailable"
    retryable = True


class PermanentEngineError(EngineError):
    """Never worth another try for this input."""

    code = "engine_rejected"
    retryable = False
