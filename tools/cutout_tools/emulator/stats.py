"""Accounting of what the emulator did: calls, billed calls (per object), faults, result downloads.

Tests and the local stack read this through ``GET /_emulator/stats`` to check the product rules
"never pay twice for the same object" and "never pay for a bad input". Every method takes one lock:
the server answers requests on many threads.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class EmulatorStats:
    """Thread-safe counters.

    ``billed`` counts the calls the real service would bill: every success, and the ``timeout`` and
    ``malformed`` faults (the work was done; the answer was held, or garbled on the way back).
    ``undelivered`` counts billed answers the client never got intact, by why: ``timeout`` and
    ``malformed`` (faults), ``client_gone`` (the client had hung up before the answer was ready:
    its own deadline, or a crash) and ``write_failed`` (the connection broke while answering).
    Only an undelivered answer may explain a second bill for one object.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._calls = 0
        self._billed = 0
        self._calls_by_object: Counter[str] = Counter()
        self._billed_by_object: Counter[str] = Counter()
        self._undelivered: Counter[str] = Counter()
        self._undelivered_by_object: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._result_fetches = 0
        self._result_not_found = 0
        self._result_refused: Counter[str] = Counter()
        self._result_fetches_by_scheme: Counter[str] = Counter()

    def record_call(self) -> None:
        with self._lock:
            self._calls += 1

    def record_object_call(self, object_id: str) -> None:
        with self._lock:
            self._calls_by_object[object_id] += 1

    def record_billed(self, object_id: str | None) -> None:
        with self._lock:
            self._billed += 1
            if object_id is not None:
                self._billed_by_object[object_id] += 1

    def record_undelivered(self, object_id: str | None, why: str) -> None:
        with self._lock:
            self._undelivered[why] += 1
            if object_id is not None:
                self._undelivered_by_object[object_id] += 1

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def record_response(self, res_code: int | str) -> None:
        """What the call answered: a resCode, or ``timeout`` / ``malformed``."""
        with self._lock:
            self._responses[str(res_code)] += 1

    def record_result_fetch(self, *, found: bool, scheme: str = "http") -> None:
        with self._lock:
            self._result_fetches += 1
            self._result_fetches_by_scheme[scheme] += 1
            if not found:
                self._result_not_found += 1

    def record_result_refused(self, oss_code: str) -> None:
        """A result GET answered 403 (bad signature, past Expires): counted apart from not-found."""
        with self._lock:
            self._result_refused[oss_code] += 1

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def snapshot(self) -> dict[str, Any]:
        """A JSON-serialisable copy, consistent at one instant."""
        with self._lock:
            objects = set(self._calls_by_object) | set(self._billed_by_object)
            return {
                "calls": self._calls,
                "billed": self._billed,
                "undelivered": dict(self._undelivered),
                "by_object": {
                    object_id: {
                        "calls": self._calls_by_object[object_id],
                        "billed": self._billed_by_object[object_id],
                        **(
                            {"undelivered": self._undelivered_by_object[object_id]}
                            if self._undelivered_by_object[object_id]
                            else {}
                        ),
                    }
                    for object_id in sorted(objects)
                },
                "faults": dict(self._faults),
                "responses": dict(self._responses),
                "result_fetches": self._result_fetches,
                "result_not_found": self._result_not_found,
                "result_refused": dict(self._result_refused),
                "result_fetches_by_scheme": dict(self._result_fetches_by_scheme),
            }
