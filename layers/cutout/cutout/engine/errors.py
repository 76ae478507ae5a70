"""One error tree for every engine.

Every error has a stable, machine-readable ``code`` (it becomes ``error.code`` in DLQ records and
metric dimensions), a human ``message``, says whether it is ``retryable``, and carries the API's
own ``api_code``, ``api_message`` and ``request_id`` when there was one. No error ever holds a
secret: messages are built from API answers and our own words, never from request parameters.

``RetryableEngineError``: the same request may succeed later (5xx, rate limits, timeouts).
``PermanentEngineError``: this input will never succeed as it is; never retried, never re-paid.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EngineError(Exception):
    """Base of the tree. Subclasses set ``code`` and ``retryable``."""

    code: ClassVar[str] = "engine_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        api_code: int | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.api_code = api_code
        self.api_message = api_message
        self.request_id = request_id
        if code is not None:
            self.code = code  # type: ignore[misc]  # a per-instance refinement, e.g. aidge_700

    def to_dict(self) -> dict[str, Any]:
        """The record shape used in DLQ records and logs."""
        return {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
            "api_code": self.api_code,
            "api_message": self.api_message,
            "request_id": self.request_id,
        }

    def __str__(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"[{self.code}] {self.message}{suffix}"


class RetryableEngineError(EngineError):
    """Worth another try later, with backoff."""

    code = "engine_unavailable"
    retryable = True


class PermanentEngineError(EngineError):
    """Never worth another try for this input."""

    code = "engine_rejected"
    retryable = False
