"""Where the emulator keeps results between the paid call and the download.

The real service hands back a signed object-store URL whose lifetime is not documented; the
emulator keeps results in memory, least recently stored first out, within a count and a byte cap,
so that a long local run never grows without bound (an evicted result answers 404, as an expired
URL would).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

MAX_RESULTS_DEFAULT = 512
MAX_RESULT_BYTES_DEFAULT = 512 * 1024 * 1024


@dataclass(slots=True)
class StoredResult:
    data: bytes
    content_type: str
    extension: str
    # The ``result404`` fault: the first GET answers 404, like an object store not yet consistent.
    not_found_first_get: bool = False
    key: str = ""  # the OSS-shaped object key it is served under (set once stored)


class ResultStore:
    """A bounded, thread-safe map from result id to bytes."""

    def __init__(
        self, max_results: int = MAX_RESULTS_DEFAULT, max_bytes: int = MAX_RESULT_BYTES_DEFAULT
    ) -> None:
        if max_results < 1 or max_bytes < 1:
            raise ValueError("the result store needs room for at least one result")
        self._max_results = max_results
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._results: OrderedDict[str, StoredResult] = OrderedDict()
        self._bytes = 0

    def put(self, result: StoredResult) -> str:
        """Store a result and return its new, unguessable id (it is the URL's only secret)."""
        result_id = secrets.token_hex(16)
        with self._lock:
            self._results[result_id] = result
            self._bytes += len(result.data)
            while len(self._results) > 1 and (
                len(self._results) > self._max_results or self._bytes > self._max_bytes
            ):
                _, evicted = self._results.popitem(last=False)
                self._bytes -= len(evicted.data)
        return result_id

    def name(self, result_id: str, key: str) -> None:
        """Serve the result ``result_id`` under the object key ``key`` (which starts with its id)."""
        with self._lock:
            result = self._results.get(result_id)
            if result is not None:
                result.key = key

    def get(self, result_id: str, key: str) -> StoredResult | None:
        """The result for one GET, or ``None`` (unknown, evicted, another key, or first GET of a
        ``result404`` result, which is then served from the next GET on)."""
        with self._lock:
            result = self._results.get(result_id)
            if result is None or result.key != key:
                return None
            if result.not_found_first_get:
                result.not_found_first_get = False
                return None
            return result

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)
