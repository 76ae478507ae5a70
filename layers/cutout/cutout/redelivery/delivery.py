"""How one attempt reached us: what decides whether a transient failure is final."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delivery:
    """How this attempt reached us: the SQS receive count decides when a transient failure is final."""

    receive_count: int = 1
    max_receive_count: int = 1
    first_received_at: str | None = None
    # Whether the message can be sent again as a new one on its last receive (the SQS path with the
    # work queue's URL): then a rate limit waits there instead of being recorded.
    can_requeue: bool = False

    @property
    def is_last_attempt(self) -> bool:
        return self.receive_count >= self.max_receive_count
