"""The report in a real browser: headless Chromium shows every row, the images and the colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout_tools.report import write_report
from tests.functional.report.chromium import chromium_or_skip, dump_dom, screenshot
from tests.functional.report.page import parse_report
from tests.functional.report.run_on_disk import HOSTILE_KEY, OBJECT_BLUE, make_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DONE_GREEN = (0x1F, 0x7A, 0x3F)  # the template's --done colour (badges, left borders)
FAILED_RED = (0xB3, 0x26, 0x1E)  # --failed


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

    # Then the browser built one row per input, in order, with each key as text and no script element
    assert [row.key for row in page.rows] == run.keys
    assert HOSTILE_KEY in [row.key for row in page.rows]
    assert "script" not in page.tags
    assert [row.status for row in page.rows] == ["done", "done", "failed", "done", "failed"]


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
