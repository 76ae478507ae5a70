"""One progress display for long-running commands: a tqdm bar on a terminal, plain lines elsewhere.

    with progress("enqueueing", total=None) as bar:
        for batch in batches:
            ...
            bar.advance(len(batch))
        bar.note("resumed from checkpoint")

On a terminal (``stream.isatty()``) it is a tqdm bar with counts, rate and ETA (when ``total`` is
known), and ``note`` prints above the bar. Otherwise (CI, pipes, files) it writes a plain line at
most every ``PLAIN_INTERVAL_SECONDS`` and a last one at the end, and ``note`` is a plain line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TextIO

PLAIN_INTERVAL_SECONDS = 5.0


class Progress(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def note(self, text: str) -> None: ...  # a line above the bar / a plain line


class _TqdmProgress:
    def __init__(self, description: str, total: int | None, stream: TextIO) -> None:
        from tqdm import tqdm

        self._bar = tqdm(desc=description, total=total, file=stream, unit=" items", dynamic_ncols=True)

    def advance(self, n: int = 1) -> None:
        self._bar.update(n)

    def note(self, text: str) -> None:
        self._bar.write(text, file=self._bar.fp)

    def close(self) -> None:
        self._bar.close()


class _PlainProgress:
    def __init__(
        self, description: str, total: int | None, stream: TextIO, interval: float = PLAIN_INTERVAL_SECONDS
    ) -> None:
        self._description = description
        self._total = total
        self._stream = stream
        self._interval = interval
        self._count = 0
        self._started = time.monotonic()
        self._last = self._started

    def advance(self, n: int = 1) -> None:
        self._count += n
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._line(now)

    def note(self, text: str) -> None:
        print(text, file=self._stream, flush=True)

    def close(self) -> None:
        self._line(time.monotonic())

    def _line(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        of_total = f"/{self._total}" if self._total is not None else ""
        print(
            f"{self._description}: {self._count}{of_total} ({self._count / elapsed:.0f}/s, {elapsed:.0f} s)",
            file=self._stream,
            flush=True,
        )


@contextmanager
def progress(description: str, total: int | None, *, stream: TextIO | None = None) -> Iterator[Progress]:
    """A progress display on ``stream`` (default: standard error), closed when the block ends."""
    target = stream if stream is not None else sys.stderr
    is_terminal = getattr(target, "isatty", lambda: False)()
    display: _TqdmProgress | _PlainProgress = (
        _TqdmProgress(description, total, target)
        if is_terminal
        else _PlainProgress(description, total, target)
    )
    try:
        yield display
    finally:
        display.close()
