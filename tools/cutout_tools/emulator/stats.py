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
    """Thread-safe counters. ``billed`` counts successful (``success: true``) API calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._calls = 0
        self._billed = 0
        self._calls_by_object: Counter[str] = Counter()
        self._billed_by_object: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._responses: Counter[str] = Counter()
        self._result_fetches = 0
        self._result_not_found = 0

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

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def record_response(self, res_code: int | str) -> None:
        """What the call answered: a resCode, or ``timeout`` / ``malformed``."""
        with self._lock:
            self._responses[str(res_code)] += 1

    def record_result_fetch(self, *, found: bool) -> None:
        with self._lock:
            self._result_fetches += 1
            if not found:
                self._result_not_found += 1

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
                "by_object": {
                    object_id: {
                        "calls": self._calls_by_object[object_id],
                        "billed": self._billed_by_object[object_id],
                    }
                    for object_id in sorted(objects)
                },
                "faults": dict(self._faults),
                "responses": dict(self._responses),
                "result_fetches": self._result_fetches,
                "result_not_found": self._result_not_found,
            }
