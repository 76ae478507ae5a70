"""The terminal table of ``cutout local run``: a cut-out the quality gate held says so (issue 26)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cutout_tools.local_stack.local_run import summary_table
from cutout_tools.report.rows import build_header, build_row


def summary(*items: dict[str, Any], held: int, done: int) -> dict[str, Any]:
    return {
        "items": list(items),
        "totals": {"inputs": len(items), "done": done, "held": held, "failed": 0, "variants": 2},
        "emulator": {"calls": 2, "billed": 2},
        "wall_seconds": 12.5,
    }


def item(key: str, status: str, metadata: dict[str, str]) -> dict[str, Any]:
    variant = "amazon-main" if status == "done" else "review/amazon-main"
    return {
        "key": key,
        "status": status,
        "metadata": {"score": "0.97" if status == "done" else "0.77", **metadata},
        "outputs": [{"variant": "amazon-main", "key": f"{variant}/{key}.jpg", "width": 2000, "height": 2000}],
        "output_key": f"{variant}/{key}.jpg",
    }


def test_a_held_cut_out_is_held_in_the_table_and_the_totals() -> None:
    # Given a run with one published upload and one the gate held
    run = summary(
        item("kitchen/mug.jpg", "done", {}),
        item("scenes/linen-grey-mug.jpg", "held", {"review-reasons": "low_score"}),
        done=1,
        held=1,
    )
    # When the table is printed
    lines = summary_table(run).splitlines()
    # Then the held one says held, why and where, and the totals count it apart
    [mug] = [line for line in lines if line.startswith("kitchen/mug.jpg")]
    [linen] = [line for line in lines if line.startswith("scenes/linen-grey-mug.jpg")]
    assert mug.split()[1] == "done"
    assert linen.split()[1] == "held"
    assert "held for review under review/: low_score" in linen
    assert "held for review" not in mug
    assert "2 inputs: 1 done, 1 held for review, 0 failed" in lines[-1]
    assert "12.5 s in all (the stack's start and stop included)" in lines[-1]


def test_the_report_counts_a_held_row_among_those_to_look_at(tmp_path: Path) -> None:
    # Given the same run, as the report reads it
    held = item("scenes/linen-grey-mug.jpg", "held", {"review-reasons": "low_score"})
    run = summary(item("kitchen/mug.jpg", "done", {}), held, done=1, held=1)
    # When its rows and header are built
    rows = [build_row(tmp_path, index, one) for index, one in enumerate(run["items"])]
    header = build_header(run, rows)
    # Then the held row shows "held", is flagged with the gate's reason, and is one to review
    [row] = [row for row in rows if row.key == "scenes/linen-grey-mug.jpg"]
    assert row.status == "held"
    assert row.row_class == "review"
    assert [flag.code for flag in row.flags][:1] == ["quality_gate"]
    assert (header.done, header.review) == (2, 1)
