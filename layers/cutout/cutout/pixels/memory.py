"""How much pixel work may run at once: a byte budget derived from the function's memory size.

Lambda sets ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` (MB) in the function's environment. The budget is
that memory minus ``RUNTIME_RESERVE_MIB`` (the interpreter, the libraries, boto3's clients and the
batch's other threads, measured in bench/performance.py), and a job reserves its estimated working
set before it allocates anything. Jobs wait (first come, first served) until their estimate fits;
a job whose estimate exceeds the whole budget runs alone, so no image is refused for the
function's size, only serialised. Worst case: the budget is full and one more image's estimate
is in flight alone, so peak memory ≈ reserve + max(budget, largest single estimate).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from cutout.pixels.codecs import PixelJob

MIB = 1024 * 1024
# What the function needs besides pixels: CPython, Powertools, boto3 clients, Pillow's libraries
# and ten worker threads. bench/performance.py measures ~85 MiB at rest after a warm batch.
RUNTIME_RESERVE_MIB = 90
# Outside Lambda (tests, the local stack, the CLI) the variable is absent: assume the template's default.
DEFAULT_MEMORY_MIB = 1024
MIN_BUDGET_BYTES = 16 * MIB
_BYTES_PER_PIXEL = 4  # Pillow stores RGB, RGBA and CMYK at 4 bytes a pixel, L at 1 (we assume 4)


def working_set(
    width: int,
    height: int,
    *,
    compressed: int = 0,
    reduction: int = 1,
    output_side: int = 3000,
    progressive: bool = False,
) -> int:
    """Estimated peak bytes to decode a ``width`` x ``height`` image and re-encode it.

    The decoded image (after a DCT ``reduction`` of 1, 2, 4 or 8) is counted twice (one conversion
    or transpose copy alive at a time), plus the resized output and its encoded bytes, plus the
    compressed input held in memory. A progressive JPEG keeps its full-size DCT coefficients
    (2 bytes per sample, 4:2:0 = 1.5 samples per pixel) whatever the reduction.
    """
    decoded = (width // reduction + 1) * (height // reduction + 1) * _BYTES_PER_PIXEL
    scale = min(1.0, output_side / max(width // reduction, height // reduction, 1))
    output = int(decoded * scale * scale)
    coefficients = int(width * height * 1.5 * 2) if progressive else 0
    return compressed + 2 * decoded + 2 * output + coefficients


def request_body_working_set(image_bytes: int) -> int:
    """Peak bytes of a base64 request for an image of ``image_bytes``: the image itself plus its
    base64 and the body, encoded once (``encoded_request_body``), measured (tracemalloc, a 4 MiB
    image, the body + ``httpx.Request(content=...)``) at 2.67x the image above the image's own
    bytes (it was 4.0x with a dict serialised by ``json=``)."""
    return 0 if image_bytes <= 0 else image_bytes * 4


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """What the budget saw: its size, the most reserved at once, jobs run and how many waited."""

    capacity_bytes: int
    peak_reserved_bytes: int
    jobs: int
    waited: int
    oversized: int  # jobs larger than the whole budget, run alone


class PixelBudget:
    """A weighted semaphore over bytes of pixel memory; safe to share between threads."""

    def __init__(self, capacity_bytes: int) -> None:
        if capacity_bytes <= 0:
            raise ValueError("capacity_bytes must be positive")
        self.capacity_bytes = capacity_bytes
        self._reserved = 0
        self._running = 0
        self._peak = 0
        self._jobs = 0
        self._waited = 0
        self._oversized = 0
        self._condition = threading.Condition()
        self._queue: list[object] = []  # waiting tickets, first come first served

    @classmethod
    def for_memory(cls, memory_mib: int, reserve_mib: int = RUNTIME_RESERVE_MIB) -> PixelBudget:
        """The budget of a function with ``memory_mib`` MB of memory."""
        return cls(max(MIN_BUDGET_BYTES, (memory_mib - reserve_mib) * MIB))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PixelBudget:
        environ = os.environ if environ is None else environ
        raw = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        memory = int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_MEMORY_MIB
        return cls.for_memory(memory)

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[int]:
        """Hold ``nbytes`` of the budget (waiting until they fit) for the ``with`` block; 0 holds nothing."""
        if nbytes <= 0:
            yield 0
            return
        ticket = object()
        with self._condition:
            self._jobs += 1
            self._queue.append(ticket)
            if not self._fits(ticket, nbytes):
                self._waited += 1
                self._condition.wait_for(lambda: self._fits(ticket, nbytes))
            self._queue.remove(ticket)
            if nbytes > self.capacity_bytes:
                self._oversized += 1
            self._reserved += nbytes
            self._running += 1
            self._peak = max(self._peak, self._reserved)
            self._condition.notify_all()
        try:
            yield nbytes
        finally:
            with self._condition:
                self._reserved -= nbytes
                self._running -= 1
                self._condition.notify_all()

    def _fits(self, ticket: object, nbytes: int) -> bool:
        if self._queue[0] is not ticket:
            return False  # first come, first served: a big job is not starved by small ones
        if self._running == 0:
            return True  # alone, anything runs (a job bigger than the budget runs by itself)
        return self._reserved + nbytes <= self.capacity_bytes

    def usage(self) -> BudgetUsage:
        with self._condition:
            return BudgetUsage(self.capacity_bytes, self._peak, self._jobs, self._waited, self._oversized)

    @contextmanager
    def job(self, estimate: int, purpose: str) -> Iterator[PixelJob]:
        """A ``PixelJob`` holding ``estimate`` bytes of the budget for the ``with`` block."""
        with self.reserve(estimate) as reserved:
            yield PixelJob(purpose=purpose, reserved_bytes=reserved)


_process_budget: PixelBudget | None = None
_process_lock = threading.Lock()


def pixel_budget() -> PixelBudget:
    """The process's budget (one per Lambda execution environment), sized from its environment."""
    global _process_budget  # noqa: PLW0603  (one budget shared by the batch's threads)
    with _process_lock:
        if _process_budget is None:
            _process_budget = PixelBudget.from_environment()
        return _process_budget
