"""The report in a real browser: headless Chromium shows every row, the images and the colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout_tools.report import write_report
from tests.functional.report.chromium import chromium_or_skip, dump_dom, screenshot
from tests.functional.report.page import parse_report
from tests.functional.report.run_on_disk import (
    EMPTY_KEY,
    HOSTILE_KEY,
    LOW_SCORE_KEY,
    OBJECT_BLUE,
    VARIANTS,
    make_deliverables_run,
    make_review_run,
    make_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DONE_GREEN = (0x1F, 0x7A, 0x3F)  # the template's --done colour (badges, left borders)
FAILED_RED = (0xB3, 0x26, 0x1E)  # --failed
REVIEW_AMBER = (0xC2, 0x5E, 0x00)  # --review


def pixels_near(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    """How many pixels are within ``tolerance`` of ``colour`` on every channel."""
    return int((np.abs(image.astype(np.int16) - np.array(colour, np.int16)) <= tolerance).all(axis=-1).sum())


def test_chromium_shows_every_row_with_keys_as_text(tmp_path: Path) -> None:
    # Given a report of a run with done, failed and hostile-key rows, and the browser
    chromium = chromium_or_skip()
    run = make_run(tmp_path)
    report = write_report(run.out_dir, run.summary)

    # When Chromium loads it and dumps its DOM
    page = parse_report(dump_dom(chromium, tmp_path / "profile", report))

    # Then the browser built one row per input, failures first, with each key as text and no script element
    assert [row.key for row in page.rows] == run.keys_in_report_order
    assert HOSTILE_KEY in [row.key for row in page.rows]
    assert "script" not in page.tags
    assert [row.status for row in page.rows] == ["failed", "failed", "done", "done", "done"]


def test_chromium_paints_the_images_and_the_status_colours(tmp_path: Path) -> None:
    # Given a report of the same run, and the browser
    chromium = chromium_or_skip()
    run = make_run(tmp_path)
    report = write_report(run.out_dir, run.summary)

    # When Chromium takes a screenshot of the page at a laptop's width
    shot = screenshot(chromium, tmp_path / "profile", report, tmp_path / "report.png", window=(1280, 2000))

    # Then the page is not blank: the inline images (the blue object), and the green and red statuses, show
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (2000, 1280)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 100
    assert pixels_near(image, OBJECT_BLUE, tolerance=20) > 20_000  # 3 done rows × 2 previews of a blue ring
    assert pixels_near(image, DONE_GREEN) > 500
    assert pixels_near(image, FAILED_RED) > 500


def test_chromium_shows_the_cutouts_to_review_first_in_their_own_colour(tmp_path: Path) -> None:
    # Given a report of a run with an empty cut-out (score 0.0000) and a low-score one, and the browser
    chromium = chromium_or_skip()
    run = make_review_run(tmp_path)
    report = write_report(run.out_dir, run.summary)

    # When Chromium loads it, dumps its DOM and takes a screenshot of the top of the page
    page = parse_report(dump_dom(chromium, tmp_path / "profile", report))
    shot = screenshot(chromium, tmp_path / "profile", report, tmp_path / "report.png", window=(1280, 1400))

    # Then the two come first, flagged with their reasons
    assert [row.key for row in page.rows[:2]] == [EMPTY_KEY, LOW_SCORE_KEY]
    assert [row.flags for row in page.rows[:2]] == [["empty_mask", "low_score"], ["low_score"]]
    assert "empty cut-out" in page.rows[0].text
    # And the top of the page is painted in the review colour (badges, borders, the list to look at),
    # which is neither the green of done nor the red of failed
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels_near(image, REVIEW_AMBER) > 2_000
    assert pixels_near(image[:700], REVIEW_AMBER) > 500  # above the first failure's row
    assert pixels_near(np.array([[REVIEW_AMBER]], np.uint8), DONE_GREEN, tolerance=40) == 0
    assert pixels_near(np.array([[REVIEW_AMBER]], np.uint8), FAILED_RED, tolerance=40) == 0


def test_chromium_shows_every_variant_of_every_input(tmp_path: Path) -> None:
    # Given a report of a run with the default profiles (a master and three variants per input)
    chromium = chromium_or_skip()
    run = make_deliverables_run(tmp_path)
    report = write_report(run.out_dir, run.summary)

    # When Chromium loads it, dumps its DOM and takes a screenshot
    page = parse_report(dump_dom(chromium, tmp_path / "profile", report))
    shot = screenshot(chromium, tmp_path / "profile", report, tmp_path / "report.png", window=(1280, 1600))

    # Then every row holds the original, the master and each variant, named with its size
    assert [row.status for row in page.rows] == ["done", "done"]
    for row in page.rows:
        assert len(row.image_sources) == 2 + len(VARIANTS)
        for name, _, (width, height) in VARIANTS:
            assert f"{name} · {width} × {height}" in row.text
    # and the variants are painted (the blue product in each of the eight previews per row at least once)
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels_near(image, OBJECT_BLUE, tolerance=20) > 20_000
