"""progress(): a tqdm bar on a terminal, plain lines (first, periodic, last) everywhere else."""

from __future__ import annotations

import io
from typing import Any, cast

import pytest

from cutout_tools import progress as progress_module
from cutout_tools.progress import plain_line, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_pipe_it_prints_plain_lines_the_first_the_last_and_notes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a stream that is not a terminal, and a long interval between periodic lines
    monkeypatch.setattr(progress_module, "PLAIN_INTERVAL_SECONDS", 3600.0)
    stream = io.StringIO()

    # When ten units advance, with a note after the fourth
    with progress("uploads", 10, stream=stream) as bar:
        for number in range(10):
            bar.advance()
            if number == 3:
                bar.note("failed: a.jpg")

    # Then there is the first line, the note, and the last line; no carriage returns
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("uploads: 1/10 (10 %)")
    assert lines[1] == "failed: a.jpg"
    assert lines[2].startswith("uploads: 10/10 (100 %)")
    assert "finished in" in lines[2]
    assert len(lines) == 3
    assert "\r" not in stream.getvalue()


def test_in_a_pipe_a_run_that_stops_early_still_prints_where_it_got(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a plain stream and a long interval
    monkeypatch.setattr(progress_module, "PLAIN_INTERVAL_SECONDS", 3600.0)
    stream = io.StringIO()
    # When three of ten units advance and the block ends
    with progress("uploads", 10, stream=stream) as bar:
        bar.advance(3)
        bar.advance()
    # Then the last line says 4/10
    assert stream.getvalue().splitlines()[-1].startswith("uploads: 4/10 (40 %)")


def test_on_a_terminal_it_draws_a_bar_with_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a terminal
    monkeypatch.setenv("TERM", "xterm")
    stream = Terminal()
    # When five units advance and a note is written
    with progress("uploads", 5, stream=stream) as bar:
        bar.advance(2)
        bar.note("failed: b.jpg")
        bar.advance(3)
    # Then the bar (redrawn with carriage returns) shows the counts, and the note is a line of its own
    text = stream.getvalue()
    assert "\r" in text
    assert "uploads" in text
    assert "5/5" in text
    assert "failed: b.jpg\n" in text


def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a terminal that cannot redraw a line
    monkeypatch.setenv("TERM", "dumb")
    stream = Terminal()
    # When a unit advances
    with progress("uploads", 2, stream=stream) as bar:
        bar.advance()
    # Then the output is a plain line
    assert stream.getvalue().startswith("uploads: 1/2 (50 %)")
    assert "\r" not in stream.getvalue()


@pytest.mark.parametrize(
    ("count", "total", "elapsed", "expected"),
    [
        (12, 40, 4.0, "uploads: 12/40 (30 %), 3.0/s, about 9 s left"),
        (1, 10, 3.0, "uploads: 1/10 (10 %), 3.0 s each, about 27 s left"),
        (10, 10, 125.0, "uploads: 10/10 (100 %), 12.5 s each, finished in 2 min 05 s"),
        (7, None, 2.0, "uploads: 7, 3.5/s"),
    ],
)
def test_plain_lines_have_counts_rate_and_eta(
    count: int, total: int | None, elapsed: float, expected: str
) -> None:
    # Given a count, a total (or none) and the time so far
    # When the line is written
    # Then it has the counts, the rate and what is left
    assert plain_line("uploads", count, total, elapsed) == expected


def test_the_estimate_is_measured_from_the_first_outcome_not_the_start() -> None:
    # Given a run of 30 whose first outcome came after 60 s of start-up (a stack, a cold start),
    # then one every 2 s
    import io

    from cutout_tools.progress import _PlainLines

    now = [0.0]
    stream = io.StringIO()
    lines = _PlainLines("cutout local run", 30, stream, clock=lambda: now[0])
    now[0] = 60.0
    lines.advance()  # the first: printed, no rate yet
    for _ in range(4):
        now[0] += 2.0
        lines.advance()
    lines.close()
    # When the lines are read
    printed = stream.getvalue().splitlines()
    first, last = printed[0], printed[-1]
    # Then the first has no estimate (one outcome is no rate), and the next one's rate is 2 s each,
    # 25 left: about 50 s (over the whole 68 s it would have said about 5 min 40 s)
    assert first == "cutout local run: 1/30 (3 %)"
    assert last == "cutout local run: 5/30 (16 %), 2.0 s each, about 50 s left"


def test_on_a_terminal_the_first_estimate_does_not_count_the_wait_before_the_first_unit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a terminal bar of 10 units on a clock we move, and 100 s before the first unit (a stack
    # starting, a cold start)
    monkeypatch.setenv("TERM", "xterm")
    now = [0.0]
    with progress("uploads", 10, stream=Terminal()) as bar:
        tqdm_bar = cast("Any", bar)._bar
        tqdm_bar._time = lambda: now[0]
        tqdm_bar.start_t = tqdm_bar.last_print_t = 0.0
        # When the first unit finishes at 100 s, then one more every second
        now[0] = 100.0
        bar.advance()
        rate_after_the_first = tqdm_bar.format_dict["rate"]
        for _ in range(3):
            now[0] += 1.0
            bar.advance()
        rate = tqdm_bar.format_dict["rate"]
        elapsed = tqdm_bar.format_dict["elapsed"]
    # Then there is no rate (no estimate) after the first unit, then one per second, not 4 in 103 s;
    # the elapsed time still counts from the start
    assert rate_after_the_first is None
    assert rate == pytest.approx(1.0)
    assert elapsed == pytest.approx(103.0)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.999, "cutout local run: 3/30 (10 %)"),
        (1.0, "cutout local run: 3/30 (10 %), 2.0/s, about 14 s left"),
    ],
)
def test_outcomes_within_a_second_of_the_first_make_no_rate(seconds: float, expected: str) -> None:
    # Given three outcomes, the last two `seconds` after the first (a batch finishing together)
    # When the line is written
    # Then under a second there is no rate (it would say thousands a second); from a second, there is
    assert plain_line("cutout local run", 3, 30, 60.0 + seconds, since_first=(seconds, 1)) == expected


def test_a_finished_run_reports_its_whole_time_per_unit_even_if_its_outcomes_came_together() -> None:
    # Given a run of 2 whose outcomes came 1 ms apart after 6 s
    # When its last line is written
    line = plain_line("cutout local run", 2, 2, 6.0, since_first=(0.001, 1))
    # Then the rate is the whole run's, as its "finished in"
    assert line == "cutout local run: 2/2 (100 %), 3.0 s each, finished in 6 s"
