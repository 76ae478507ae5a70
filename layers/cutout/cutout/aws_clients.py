"""boto3 clients for rarely used ports, built the first time a port calls them.

Every boto3 client costs a cold start its service model (a JSON file parsed into tens of thousands
of objects) and a generated class: 5–20 ms each (docs/observability.md, "Cold start"). The clients
every upload needs (S3, DynamoDB, EventBridge, Secrets Manager) are built at init, so the first
invocation pays nothing for them. The ones only a rare path calls (SQS for DLQ records, retry delays
and re-enqueueing: failures only; SSM and Lambda: pausing the event source) are ``LazyClient``:
built, with the invocation deadline attached, on the first call; a batch that fails nothing and
pauses nothing never pays for them (the first one that does pays 5–20 ms once).

A boto3 session is not thread-safe, and a lazy client may first be needed on one of the batch's
worker threads while another builds its own: every build goes through one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cutout.deadline import invocation_deadline

# One lock for every lazy build: two clients built at once would share their session's state.
_BUILD_LOCK = threading.Lock()
_OWN = frozenset({"_build", "_client"})


class LazyClient:
    """Stands for the client ``build()`` returns; builds it on the first attribute used, once."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None

    @property
    def built(self) -> bool:
        return self._client is not None

    def resolve(self) -> Any:
        """The real client (built now if it was not)."""
        client = self._client
        if client is None:
            with _BUILD_LOCK:
                if self._client is None:
                    self._client = self._build()
                client = self._client
        return client

    def __getattr__(self, name: str) -> Any:
        if name in _OWN:  # not set yet (a copy made without __init__): no recursion
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __repr__(self) -> str:
        return f"<LazyClient {'built: ' + repr(self._client) if self.built else 'not built yet'}>"


def lazy_client(session: Any, service: str, *, config: Any, attempt_seconds: float | None = None) -> Any:
    """``session.client(service, config=config)`` when first used. With ``attempt_seconds``, no
    attempt starts that could not end before the invocation does (``cutout.deadline``)."""

    def build() -> Any:
        client = session.client(service, config=config)
        if attempt_seconds is not None:
            invocation_deadline.attach(client, attempt_seconds)
        return client

    return LazyClient(build)
