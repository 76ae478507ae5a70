"""Progress of a long command: a real bar on a terminal, plain periodic lines in CI and pipes.

    with progress("uploads", total=len(keys)) as bar:
        for key in keys:
            ...
            bar.advance()
            if failed:
                bar.note(f"failed: {key}")   # printed above the bar (a plain line otherwise)

On a terminal (``stream.isatty()``, and not ``TERM=dumb``) the bar is tqdm's: counts, percentage,
rate and ETA, redrawn in place. Anywhere else (CI logs, ``| tee``, a file) a redrawn bar would be
noise, so the same figures come as plain lines: the first step, then at most one line every
``PLAIN_INTERVAL_SECONDS``, and always the last, e.g.
``uploads: 12/40 (30 %), 3.1/s, about 9 s left``. ``total=None`` (an unknown amount) shows counts
and rate only. Nothing is printed for a run that never advances, except its notes.

Dev-only (tqdm is pinned in requirements-dev.txt): nothing of this ships to Lambda.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO, cast

PLAIN_INTERVAL_SECONDS = 5.0
MIN_RATE_SECONDS = 1.0  # the least time after the first outcome that makes a rate
FALLBACK_COLUMNS = 100
FALLBACK_LINES = 24


class Progress(Protocol):
    """What a command reports while it works."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the total are finished."""

    def note(self, text: str) -> None:
        """A line for the person watching: above the bar on a terminal, a plain line otherwise."""


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal that can redraw a bar in place."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return False
    return os.environ.get("TERM", "") != "dumb"


@contextmanager
def progress(description: str, total: int | None, *, stream: TextIO | None = None) -> Iterator[Progress]:
    """A progress reporter for ``total`` units (``None``: unknown) on ``stream`` (default: stderr)."""
    target = stream if stream is not None else sys.stderr
    reporter: _Bar | _PlainLines
    reporter = (
        _Bar(description, total, target) if is_terminal(target) else _PlainLines(description, total, target)
    )
    try:
        yield reporter
    finally:
        reporter.close()


class _Bar:
    """tqdm's bar on a terminal."""

    def __init__(self, description: str, total: int | None, stream: TextIO) -> None:
        from tqdm import tqdm

        self._stream = stream
        width, height = _terminal_size(stream)
        self._bar = tqdm(
            total=total,
            desc=description,
            file=stream,
            unit="item",
            dynamic_ncols=width is None,  # follow the window as it is resized
            ncols=width,
            nrows=height,
            leave=True,
            bar_format=None if total is not None else "{desc}: {n_fmt} [{elapsed}, {rate_fmt}]",
        )
        self._first = True

    def advance(self, n: int = 1) -> None:
        if self._first:
            self._first_unit(n)
        else:
            self._bar.update(n)

    def _first_unit(self, n: int) -> None:
        """Count the first units without a rate sample: tqdm would measure them from the bar's
        creation, so a stack's start or a cold start would make its first estimates too long. The
        rate (and the estimate) start at the second unit, as in the plain lines."""
        self._first = False
        bar = cast("Any", self._bar)  # tqdm's counters, and its own clock (_time: a test sets it)
        bar.n += n
        bar.last_print_n, bar.last_print_t = bar.n, bar._time()
        bar.refresh()

    def note(self, text: str) -> None:
        self._bar.write(text, file=self._stream)

    def close(self) -> None:
        self._bar.close()


def _terminal_size(stream: TextIO) -> tuple[int | None, int | None]:
    """(columns, lines) to give tqdm: ``None`` where the terminal reports it, else a fixed size.

    Some terminals (a pty without a window, some CI "terminals") report 0 × 0, and tqdm then draws
    nothing at all.
    """
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return FALLBACK_COLUMNS, FALLBACK_LINES
    return (
        None if size.columns > 0 else FALLBACK_COLUMNS,
        None if size.lines > 0 else FALLBACK_LINES,
    )


class _PlainLines:
    """One line per ``PLAIN_INTERVAL_SECONDS`` at most (and the first and the last), for logs."""

    def __init__(
        self,
        description: str,
        total: int | None,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._description = description
        self._total = total
        self._stream = stream
        self._clock = clock
        self._started = clock()
        self._count = 0
        self._printed_count: int | None = None
        self._printed_at: float | None = None
        self._first_at: float | None = None  # when the first unit finished: the rate is measured from it
        self._first_count = 0

    def advance(self, n: int = 1) -> None:
        self._count += n
        now = self._clock()
        if self._first_at is None:
            self._first_at, self._first_count = now, self._count
        finished = self._total is not None and self._count >= self._total
        due = self._printed_at is None or now - self._printed_at >= PLAIN_INTERVAL_SECONDS
        if finished or due:
            self._print(now)

    def note(self, text: str) -> None:
        self._write(text)

    def close(self) -> None:
        if self._count and self._printed_count != self._count:
            self._print(self._clock())

    def _print(self, now: float) -> None:
        self._printed_count, self._printed_at = self._count, now
        since_first = None if self._first_at is None else (now - self._first_at, self._first_count)
        self._write(plain_line(self._description, self._count, self._total, now - self._started, since_first))

    def _write(self, text: str) -> None:
        self._stream.write(text + "\n")
        self._stream.flush()


def plain_line(
    description: str,
    count: int,
    total: int | None,
    elapsed: float,
    since_first: tuple[float, int] | None = None,
) -> str:
    """``uploads: 12/40 (30 %), 3.1/s, about 9 s left`` (``12``, and no ETA, when the total is unknown).

    ``since_first``: (seconds since the first unit finished, units finished then). The rate is then
    measured from that moment, so what came before it (a stack starting, a function's cold start, a
    model loading) does not make every estimate too long; until a second unit finishes there is no
    rate and no estimate, nor until ``MIN_RATE_SECONDS`` have passed since the first. ``None``, or
    a finished run: the rate over the whole ``elapsed``.
    """
    finished = total is not None and count >= total
    if since_first is None or finished:  # a finished run's rate is its whole time's, as "finished in"
        rate = count / elapsed if elapsed > 0 else 0.0
    else:
        seconds, first = since_first
        # Outcomes come in bursts (a batch's records finish together): under a second after the
        # first, two outcomes are no rate (they would say thousands a second).
        rate = (count - first) / seconds if seconds >= MIN_RATE_SECONDS and count > first else 0.0
    parts = [f"{count}/{total} ({100 * count // max(1, total)} %)" if total is not None else str(count)]
    if rate > 0:
        parts.append(f"{rate:.1f}/s" if rate >= 1 else f"{1 / rate:.1f} s each")
        if total is not None and count < total:
            parts.append(f"about {_duration((total - count) / rate)} left")
    if total is not None and count >= total:
        parts.append(f"finished in {_duration(elapsed)}")
    return f"{description}: {', '.join(parts)}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
