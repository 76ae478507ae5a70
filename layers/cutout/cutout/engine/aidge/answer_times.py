"""How long the API takes to answer, observed in this process: the bound a paid call must fit in.

A paid call is started only when the time left can see its answer through (``AnswerTimes.budget``),
and once sent, its read is given at least that budget: our own deadline never cuts an answer short,
because an answer cut short may have been billed and would be paid again on redelivery.

The budget is a high percentile of the recent answer times (``percentile`` of the last ``window``
answers, times ``headroom``), never below the floor (``AidgeConfig.min_call_seconds``) nor above
the ceiling (the read timeout). With fewer than ``min_samples`` answers seen, the floor and the
slowest answer so far decide, so a cold process is careful, not optimistic. One instance per
process (module-level ``ANSWER_TIMES``), shared by every client and thread: Lambda reuses the
process across invocations, so the figure follows the API's (and the machine's) real latency.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field


@dataclass
class AnswerTimes:
    """A thread-safe running window of answer times (seconds) and the budget derived from it."""

    percentile: float = 0.99
    headroom: float = 1.5
    window: int = 256
    min_samples: int = 20
    _samples: deque[float] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not 0.5 <= self.percentile <= 1.0 or self.headroom < 1.0 or self.window < 1:
            raise ValueError("percentile in [0.5, 1], headroom >= 1 and window >= 1")
        self._samples = deque(maxlen=self.window)

    def observe(self, seconds: float) -> None:
        """One answer (success or error) arrived ``seconds`` after its request was sent."""
        if seconds >= 0 and math.isfinite(seconds):
            with self._lock:
                self._samples.append(seconds)

    def high_percentile(self) -> float | None:
        """The ``percentile`` answer time of the window (the slowest one while samples are few)."""
        with self._lock:
            samples = sorted(self._samples)
        if not samples:
            return None
        if len(samples) < self.min_samples:
            return samples[-1]
        rank = min(len(samples) - 1, math.ceil(self.percentile * len(samples)) - 1)
        return samples[rank]

    def budget(self, floor_seconds: float, ceiling_seconds: float) -> float:
        """Seconds a paid call must be able to wait for its answer (between floor and ceiling)."""
        observed = self.high_percentile()
        wanted = floor_seconds if observed is None else max(floor_seconds, observed * self.headroom)
        return max(0.0, min(wanted, ceiling_seconds))

    def count(self) -> int:
        with self._lock:
            return len(self._samples)

    def reset(self) -> None:
        with self._lock:
            self._samples.clear()


# The process's figure (every AidgeClient records into it unless given its own).
ANSWER_TIMES = AnswerTimes()
