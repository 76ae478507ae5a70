"""What `cutout local run` says about the uploads the quality gate held: which they are, and the
command that shows them in a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cutout_tools.local_stack.command import _review_screenshot, review_hint
from cutout_tools.local_stack.local_run import held_for_review
from cutout_tools.review_page.screenshot import NoBrowser


def item(key: str, status: str = "done", **extra: Any) -> dict[str, Any]:
    return {"key": key, "status": status, **extra}


def test_held_uploads_are_the_done_ones_with_review_reasons_or_a_review_key() -> None:
    # Given the items of a run: held with variants (reasons in the metadata), held in the single
    # cut-out mode (under review/), published, failed
    items = [
        item(
            "a.jpg",
            metadata={"review-reasons": "empty_mask", "score": "0.1"},
            output_key="review/site/a.jpg.png",
        ),
        item("b.jpg", metadata={"score": "0.9"}, output_key="review/b.png"),
        item("c.jpg", metadata={"score": "0.9"}, output_key="c.png"),
        item("d.jpg", status="failed", metadata={"review-reasons": "low_score"}),
        item("e.jpg", metadata={"review-reasons": ""}, output_key="site/e.jpg.png"),
        # as the run's summary says it since issue 26: status "held"
        item("f.jpg", status="held", metadata={"review-reasons": "upscaled"}, output_key="review/f.jpg.png"),
    ]
    # When the held ones are picked
    held = held_for_review(items)
    # Then they are the three held, and neither the published nor the failed one
    assert [one["key"] for one in held] == ["a.jpg", "b.jpg", "f.jpg"]


def test_the_hint_names_the_command_that_keeps_the_stack_up_with_the_page() -> None:
    # When two uploads were held in a run of samples/ into out/
    hint = review_hint(2, Path("samples"), Path("out"))
    # Then the summary says how many, and the commands for the local run and a deployed stack
    assert hint.startswith("2 uploads held for review by the quality gate")
    assert "local run samples --out out --review" in hint
    assert "review serve --stack-name NAME" in hint


def test_one_held_upload_is_said_in_the_singular() -> None:
    assert review_hint(1, Path("in"), Path("out")).startswith("1 upload held for review")


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (NoBrowser("headless Chromium is not installed (/usr/bin/chromium)"), "no review-page.png: headless"),
        (
            RuntimeError("Timeout 60000ms exceeded.\n=== logs ==="),
            "the browser failed (Timeout 60000ms exceeded.)",
        ),
    ],
)
def test_a_screenshot_that_fails_is_said_and_does_not_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception, said: str
) -> None:
    # Given a browser that is missing, or fails
    def fail(_url: str, _target: Path) -> Path:
        raise failure

    monkeypatch.setattr("cutout_tools.review_page.screenshot.screenshot", fail)
    lines: list[str] = []
    # When the review page's screenshot is taken
    _review_screenshot("http://127.0.0.1:1/", tmp_path / "review-page.png", lines.append)
    # Then one line says why there is none, and nothing is raised
    assert len(lines) == 1
    assert said in lines[0]
