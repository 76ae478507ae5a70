"""`cutout local run DIR`: a folder goes through the local stack; OUT holds the cut-outs and a summary.

Also what a new user meets first: an --out inside DIR (left out of the upload, the previous run's
files replaced), an --out that is a file (one line, no traceback), and Ctrl-C in the middle of a
run (a partial summary and report, exit 130, no process left behind).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
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
    # Products large enough for amazon-main (the quality gate holds one enlarged more than 4x)
    (folder / "shoes" / "red shoe.jpg").write_bytes(product_photo(1000, 750))
    (folder / "bags" / "tote+1 ü.png").write_bytes(product_photo(900, 900, fmt="PNG"))
    truncated = product_photo(480, 360)
    (folder / "broken" / "truncated.jpg").write_bytes(truncated[: len(truncated) // 2])
    (folder / "README.md").write_text("not an input\n", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    return folder


def _previous_run_in(out: Path) -> None:
    """What an earlier run left in ``out``: a cut-out its summary lists, its run files, a user's file."""
    (out / "shoes").mkdir(parents=True)
    (out / "shoes" / "old cut-out.jpg").write_bytes(product_photo(200, 200))
    (out / "report.html").write_text("<p>the previous report</p>", encoding="utf-8")
    (out / "notes.txt").write_text("mine, not the run's\n", encoding="utf-8")
    summary = {
        "schema": "cutout.local-run/1",
        "items": [{"key": "shoes/old.jpg", "status": "done", "output_file": "shoes/old cut-out.jpg"}],
    }
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def test_local_run_processes_a_folder_and_writes_the_summary(photo_folder: Path) -> None:
    # Given a folder with two product photos, a truncated JPEG, a README.md and a dotfile, and an
    # output folder inside it that holds the previous run's files
    out = photo_folder / "out"
    _previous_run_in(out)
    # When `cutout local run` processes it with the template's defaults (the shipped profiles)
    finished = subprocess.run(
        cutout_command("local", "run", str(photo_folder), "--out", str(out)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Then it exits 0 and prints a table naming every input and its variants
    assert finished.returncode == 0, finished.stderr[-3000:]
    for key in ("shoes/red shoe.jpg", "bags/tote+1 ü.png", "broken/truncated.jpg"):
        assert key in finished.stdout
    assert "3 variants: web-transparent" in finished.stdout
    # And summary.json has one entry per input (README.md and the dotfile stayed home)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["schema"] == "cutout.local-run/1"
    assert (summary["mode"], summary["background"]) == ("deliverables", None)
    assert summary["totals"] == {
        "inputs": 3,
        "done": 2,
        "held": 0,
        "failed": 1,
        "interrupted": 0,
        "variants": 6,
    }
    assert summary["interrupted"] is False
    # billed calls = object versions delivered, however many variants (the truncated file: no call)
    assert summary["emulator"]["billed"] == 2
    # And the events the stack announced were read from its events queue and counted
    assert summary["events"]["by_detail_type"] == {"Cutout Image Processed": 2, "Cutout Image Failed": 1}
    assert "3 events on the events queue: Cutout Image Processed 2, Cutout Image Failed 1" in finished.stdout
    items = {item["key"]: item for item in summary["items"]}
    assert set(items) == {"shoes/red shoe.jpg", "bags/tote+1 ü.png", "broken/truncated.jpg"}
    # And the output folder inside DIR was not uploaded; the previous run's files are gone, the user's stays
    assert "not uploading out/" in finished.stderr
    assert not (out / "shoes" / "old cut-out.jpg").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine, not the run's\n"
    assert summary["engine_backend"] == "local Aidge emulator (studio engine)"
    assert all(isinstance(item["seconds"], float) for item in summary["items"])
    # And each upload's master and every variant are downloaded where the summary says, as it says
    for key in ("shoes/red shoe.jpg", "bags/tote+1 ü.png"):
        item = items[key]
        assert item["status"] == "done"
        assert item["dlq_record"] is None
        assert item["profile"] == "standard"
        assert item["master_key"] == f"masters/{key}.png"
        with Image.open(out / item["master_file"]) as master:
            assert (master.mode, master.size) == ("RGBA", Image.open(photo_folder / key).size)
        assert [output["variant"] for output in item["outputs"]] == [
            "web-transparent",
            "amazon-main",
            "listing-webp",
        ]
        for output in item["outputs"]:
            path = out / output["file"]
            assert output["key"] == output["file"]
            assert output["bytes"] == path.stat().st_size
            with Image.open(path) as image:
                assert (image.width, image.height) == (output["width"], output["height"])
                assert image.format == output["format"].upper()
    # And the truncated file failed with its DLQ record and reason
    failed = items["broken/truncated.jpg"]
    assert (failed["status"], failed["output_key"], failed["output_file"]) == ("failed", None, None)
    assert failed["outputs"] == []
    assert failed["dlq_record"]["error"]["code"] == "truncated_image"
    assert (out / "report.html").is_file()


def test_local_run_with_a_background_runs_the_single_cutout_mode(tmp_path: Path) -> None:
    # Given one product photo
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "red shoe.jpg").write_bytes(product_photo(480, 360))
    out = tmp_path / "out"
    # When `cutout local run --background white` processes it
    finished = subprocess.run(
        cutout_command("local", "run", str(folder), "--out", str(out), "--background", "white"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Then its one output is on white at the source's key plus the result's extension (0.3.0: the
    # source's extension is kept, so red.jpg and red.png never share an output), the input's size,
    # and one call was billed
    assert finished.returncode == 0, finished.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["mode"], summary["background"]) == ("single", "WHITE_BACKGROUND")
    assert summary["emulator"]["billed"] == 1
    [item] = summary["items"]
    assert (item["status"], item["outputs"], item["master_key"]) == ("done", [], None)
    assert item["output_key"] in {"red shoe.jpg.jpg", "red shoe.jpg.png"}
    assert item["metadata"]["background"] == "WHITE_BACKGROUND"
    with Image.open(out / item["output_file"]) as image:
        assert image.size == (480, 360)


def test_an_out_that_is_a_file_is_refused_in_one_line(photo_folder: Path, tmp_path: Path) -> None:
    # Given --out naming a file
    target = tmp_path / "out.txt"
    target.write_text("not a folder\n", encoding="utf-8")
    # When `cutout local run` is asked to write there
    finished = subprocess.run(
        cutout_command("local", "run", str(photo_folder), "--out", str(target)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it exits 2 with one line that says why, and no traceback; the file is untouched
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [
        f"cutout local run: --out {target} is a file, not a folder: give a folder (it is created if missing)"
    ]
    assert target.read_text(encoding="utf-8") == "not a folder\n"


def test_ctrl_c_in_the_middle_of_a_run_writes_a_partial_summary_and_exits_130(tmp_path: Path) -> None:
    # Given a folder of sixteen product photos, more than the stack finishes in a moment
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    for number in range(16):
        (photos / f"photo-{number:02d}.jpg").write_bytes(product_photo(900, 700))
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"

    # When `cutout local run` has brought the stack up and started on them, and gets SIGINT (Ctrl-C)
    with stdout.open("w") as out_file, stderr.open("w") as err_file:
        process = subprocess.Popen(
            cutout_command("local", "run", str(photos), "--out", str(out)),
            stdout=out_file,
            stderr=err_file,
            start_new_session=True,  # its own process group: nothing of it may survive it
        )
        try:
            deadline = time.monotonic() + 300
            log = out / "run.log"
            while not (log.exists() and "ready in" in log.read_text(encoding="utf-8")):
                assert process.poll() is None, stderr.read_text()[-3000:]
                assert time.monotonic() < deadline, "the stack did not come up"
                time.sleep(0.2)
            time.sleep(0.2)  # the uploads begin: on any machine, most of the work is still ahead
            process.send_signal(signal.SIGINT)
            returncode = process.wait(timeout=180)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    # Then it says it is stopping, exits 130 without a traceback, and leaves no process behind
    errors = stderr.read_text(encoding="utf-8")
    assert returncode == 130, errors[-3000:]
    assert "stopping…" in errors
    assert "Traceback" not in errors
    assert "Traceback" not in stdout.read_text(encoding="utf-8")
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)
    # And the partial summary says the run was interrupted, with an outcome or "interrupted" for each input
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True
    totals = summary["totals"]
    assert totals["inputs"] == 16
    assert totals["interrupted"] >= 1
    assert totals["done"] + totals["failed"] + totals["interrupted"] == 16
    assert {item["status"] for item in summary["items"]} <= {"done", "interrupted"}
    # And what was paid for was finished and written: every billed call has its cut-out on disk
    done = [item for item in summary["items"] if item["status"] == "done"]
    assert summary["emulator"]["billed"] == len(done)
    assert all((out / item["output_file"]).is_file() for item in done)
    # And the report says so too
    assert "This run was interrupted" in (out / "report.html").read_text(encoding="utf-8")
    assert "the run was interrupted: this summary is partial" in stdout.read_text(encoding="utf-8")
