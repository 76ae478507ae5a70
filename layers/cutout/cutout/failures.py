"""The shape every failure has, whatever raised it: engine, validation, storage.

A ``FailureReason`` has a stable machine-readable ``code`` (it becomes ``error.code`` in DLQ
records and the ``reason`` metric dimension), a ``message`` a person understands, says whether
it is ``retryable``, and carries the API's ``api_code``, ``api_message`` and ``request_id`` when
there was one. Messages are built from API answers and our own words, never from secrets.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FailureReason(Exception):  # noqa: N818  (a reason, raised or recorded)
    """Base of every failure the pipeline records. Subclasses set ``code`` and ``retryable``."""

    code: ClassVar[str] = "failed"
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
        """The ``error`` object of a DLQ record."""
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


class UnexpectedFailure(FailureReason):
    """Anything we did not foresee (an AWS outage, a bug): retried, then recorded with its type."""

    code = "internal_error"
    retryable = True

    @classmethod
    def from_error(cls, error: BaseException) -> FailureReason:
        """``error`` itself when it is a ``FailureReason``, else its type and first line only:
        enough to triage, nothing from request parameters."""
        if isinstance(error, FailureReason):
            return error
        first_line = (str(error).splitlines() or [""])[0][:300]
        return cls(f"{type(error).__name__}: {first_line}")
