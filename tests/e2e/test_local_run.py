"""`cutout local run DIR`: a folder goes through the local stack; OUT holds the cut-outs and a summary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.support import cutout_command, product_photo

pytestmark = pytest.mark.slow


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "shoes").mkdir(parents=True)
    (folder / "bags").mkdir()
    (folder / "broken").mkdir()
    (folder / "shoes" / "red shoe.jpg").write_bytes(product_photo(480, 360))
    (folder / "bags" / "tote+1 ü.png").write_bytes(product_photo(400, 400, fmt="PNG"))
    truncated = product_photo(480, 360)
    (folder / "broken" / "truncated.jpg").write_bytes(truncated[: len(truncated) // 2])
    (folder / "README.md").write_text("not an input\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    return folder


def test_local_run_processes_a_folder_and_writes_the_summary(photo_folder: Path, tmp_path: Path) -> None:
    # Given a folder with two product photos, a truncated JPEG, a README.md and a dotfile
    out = tmp_path / "out"
    # When `cutout local run` processes it with a white background
    finished = subprocess.run(
        cutout_command("local", "run", str(photo_folder), "--out", str(out), "--background", "white"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Then it exits 0 and prints a table naming every input
    assert finished.returncode == 0, finished.stderr[-3000:]
    for key in ("shoes/red shoe.jpg", "bags/tote+1 ü.png", "broken/truncated.jpg"):
        assert key in finished.stdout
    # And summary.json has one entry per input (README.md and the dotfile stayed home)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "cutout.local-run/1"
    assert summary["background"] == "WHITE_BACKGROUND"
    assert summary["totals"] == {"inputs": 3, "done": 2, "failed": 1}
    assert summary["emulator"]["billed"] == 2  # the truncated file never reached the API
    items = {item["key"]: item for item in summary["items"]}
    assert set(items) == {"shoes/red shoe.jpg", "bags/tote+1 ü.png", "broken/truncated.jpg"}
    # And each cut-out is downloaded where output_file says, with its metadata
    for key in ("shoes/red shoe.jpg", "bags/tote+1 ü.png"):
        item = items[key]
        assert item["status"] == "done"
        assert item["dlq_record"] is None
        assert item["metadata"]["background"] == "WHITE_BACKGROUND"
        with Image.open(out / item["output_file"]) as image:
            assert image.size == Image.open(photo_folder / key).size
    # And the truncated file failed with its DLQ record and reason
    failed = items["broken/truncated.jpg"]
    assert (failed["status"], failed["output_key"], failed["output_file"]) == ("failed", None, None)
    assert failed["dlq_record"]["error"]["code"] == "truncated_image"
    assert (out / "report.html").is_file()
