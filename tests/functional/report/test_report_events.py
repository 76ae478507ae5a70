"""The run report's events line: the completion events counted per detail-type from the summary."""

from __future__ import annotations

from pathlib import Path

from cutout_tools.local_stack.run_events import events_line
from cutout_tools.report import render_report
from tests.functional.report.page import parse_report
from tests.functional.report.run_on_disk import make_run

COUNTS = {"Cutout Image Processed": 2, "Cutout Image Needs Review": 1, "Cutout Image Failed": 1}


def test_the_report_and_the_table_count_the_events_per_detail_type(tmp_path: Path) -> None:
    # Given a run whose summary counted four events on the stack's events queue
    run = make_run(tmp_path)
    summary = {**run.summary, "events": {"queue": "http://q", "total": 4, "by_detail_type": COUNTS}}
    # When the report is rendered and the table's line is made
    page = parse_report(render_report(run.out_dir, summary))
    line = events_line(summary)
    # Then both give the total and each detail-type's count
    assert "4 events" in page.text
    assert "Cutout Image Processed 2, Cutout Image Needs Review 1, Cutout Image Failed 1" in page.text
    assert line == (
        "4 events on the events queue: Cutout Image Processed 2, Cutout Image Needs Review 1, "
        "Cutout Image Failed 1"
    )


def test_a_summary_without_events_shows_no_events_line(tmp_path: Path) -> None:
    # Given a run from a stack without an events queue (or an older summary)
    run = make_run(tmp_path)
    summary = {**run.summary, "events": None}
    # When the report is rendered
    page = parse_report(render_report(run.out_dir, summary))
    # Then it says nothing about events, and neither does the table
    assert "events queue" not in page.text
    assert events_line(summary) is None


def test_counts_of_the_wrong_shape_are_left_out(tmp_path: Path) -> None:
    # Given a summary whose events section was edited by hand into nonsense
    run = make_run(tmp_path)
    summary = {
        **run.summary,
        "events": {"total": "many", "by_detail_type": {"Cutout Image Processed": "two"}},
    }
    # When the report is rendered
    page = parse_report(render_report(run.out_dir, summary))
    # Then it renders, with no count it cannot trust
    assert "two" not in page.text
    assert "none." in page.text
