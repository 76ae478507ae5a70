"""`cutout local run DIR --review`: the command the run's summary prints when the gate held
anything. Once every upload has its outcome, the stack stays up with the review page of the held
uploads until Ctrl-C; then the summary (not interrupted) and the report are written, exit 0."""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.e2e.support import cutout_command, product_photo

pytestmark = pytest.mark.slow


def test_review_keeps_the_stack_up_with_the_page_of_the_held_uploads_until_ctrl_c(tmp_path: Path) -> None:
    # Given a folder with a product photo and an empty studio shot (the gate holds its empty mask)
    photos, out = tmp_path / "photos", tmp_path / "out"
    (photos / "shoes").mkdir(parents=True)
    (photos / "shoes" / "red.jpg").write_bytes(product_photo())
    blank = io.BytesIO()
    Image.new("RGB", (480, 360), (246, 246, 244)).save(blank, "JPEG")
    (photos / "shoes" / "empty.jpg").write_bytes(blank.getvalue())
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"

    # When `cutout local run --review` has processed them and shows its review page
    with stdout.open("w") as out_file, stderr.open("w") as err_file:
        process = subprocess.Popen(
            cutout_command("local", "run", str(photos), "--out", str(out), "--review"),
            stdout=out_file,
            stderr=err_file,
        )
        try:
            deadline = time.monotonic() + 600
            while not (
                found := re.search(r"the review page is at (http://127\.0\.0\.1:\d+/)", stderr.read_text())
            ):
                assert process.poll() is None, stderr.read_text()[-3000:]
                assert time.monotonic() < deadline, "no review page"
                time.sleep(0.3)
            page = httpx.get(found.group(1), timeout=120)
            # (nothing is written while it serves: the summary and report come after)
            assert not (out / "summary.json").exists()
            process.send_signal(signal.SIGINT)
            returncode = process.wait(timeout=180)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    # Then the page showed the one held upload, with the stack's images
    assert page.status_code == 200
    assert re.findall(r'<span class="key">([^<]*)</span>', page.text) == ["shoes/empty.jpg"]
    assert "1 held upload" in page.text
    # And after Ctrl-C it stopped the page and the stack, exit 0, and the run was not interrupted
    errors = stderr.read_text(encoding="utf-8")
    assert returncode == 0, errors[-3000:]
    assert "1 upload held for review: the review page is at" in errors
    assert "stopping the review page and the stack" in errors
    assert "Traceback" not in errors
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is False
    # (one published, one held: a held upload is "held" in the summary since issue 26, not "done")
    totals = summary["totals"]
    assert (totals["done"], totals["held"], totals["failed"]) == (1, 1, 0)
    assert (out / "report.html").exists()
    # And with --review the summary does not tell to run it with --review again
    assert "--review" not in stdout.read_text(encoding="utf-8")
