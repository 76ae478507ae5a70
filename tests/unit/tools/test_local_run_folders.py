"""`cutout local run`'s folders: what is uploaded, which --out is refused, what a new run removes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cutout_tools.local_stack.local_run import (
    SUMMARY_SCHEMA,
    RunFolderError,
    check_folders,
    input_files,
    remove_previous_run,
    run_directory,
)


def _previous_run(out_dir: Path, outputs: list[str]) -> None:
    """An earlier run's files in ``out_dir``, listed by its summary.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in outputs:
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_bytes(b"png")
    for name in ("report.html", "run.log"):
        (out_dir / name).write_text("old", encoding="utf-8")
    items = [{"key": name, "status": "done", "output_file": name} for name in outputs]
    summary = {"schema": SUMMARY_SCHEMA, "items": items}
    (out_dir / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def test_an_out_that_is_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    # Given a folder of photos and a file where --out points
    (tmp_path / "photos").mkdir()
    (tmp_path / "out.txt").write_text("x", encoding="utf-8")
    # When the folders are checked
    with pytest.raises(RunFolderError) as raised:
        check_folders(tmp_path / "photos", tmp_path / "out.txt")
    # Then the error is one line that names the file
    assert str(raised.value).count("\n") == 0
    assert "out.txt is a file, not a folder" in str(raised.value)


def test_an_out_that_is_the_input_folder_itself_is_refused(tmp_path: Path) -> None:
    # Given --out naming DIR itself (the cut-outs would overwrite the inputs)
    (tmp_path / "photos").mkdir()
    # When the folders are checked
    # Then it is refused
    with pytest.raises(RunFolderError, match="is DIR itself"):
        check_folders(tmp_path / "photos", tmp_path / "photos" / ".")


def test_the_output_folder_and_earlier_runs_inside_the_input_are_not_uploaded(tmp_path: Path) -> None:
    # Given photos, with --out inside the folder and an earlier run's output under another name
    photos = tmp_path / "photos"
    (photos / "shoes").mkdir(parents=True)
    (photos / "shoes" / "red.jpg").write_bytes(b"jpg")
    (photos / "README.md").write_text("notes", encoding="utf-8")
    (photos / ".DS_Store").write_bytes(b"x")
    _previous_run(photos / "out", ["shoes/red.png"])
    _previous_run(photos / "old-run", ["shoes/red.png"])
    # When the files to upload are listed, --out being photos/out
    files, skipped = input_files(photos, photos / "out")
    # Then only the photo goes, and both output folders are reported as left out
    assert [key for key, _ in files] == ["shoes/red.jpg"]
    assert [path.name for path in skipped] == ["old-run", "out"]


def test_a_new_run_removes_what_the_previous_one_wrote_and_nothing_else(tmp_path: Path) -> None:
    # Given an output folder with a previous run's files and a file of the user's own
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    _previous_run(out, ["shoes/red.png", "bags/tote.png"])
    (out / "bags" / "my notes.txt").write_text("keep me", encoding="utf-8")
    # When the previous run is cleared
    removed = remove_previous_run(out, photos)
    # Then its outputs and run files are gone, emptied folders too, and the user's file stays
    assert removed == 5
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*")) == [
        "bags",
        "bags/my notes.txt",
    ]


def test_a_new_run_removes_every_variant_and_master_the_previous_one_downloaded(tmp_path: Path) -> None:
    # Given a previous run with the deliverables: a master and two variants listed for one input
    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    files = ["masters/red.jpg.png", "site/red.jpg.png", "amazon-main/red.jpg.jpg"]
    for name in [*files, "amazon-main/mine.txt"]:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(b"x")
    item = {
        "key": "red.jpg",
        "status": "done",
        "output_file": "site/red.jpg.png",
        "master_file": "masters/red.jpg.png",
        "outputs": [{"file": "site/red.jpg.png"}, {"file": "amazon-main/red.jpg.jpg"}],
    }
    summary = {"schema": SUMMARY_SCHEMA, "items": [item]}
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    # When the previous run is cleared
    removed = remove_previous_run(out, photos)
    # Then the master, both variants and the summary are gone, and the user's file stays
    assert removed == 4
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*")) == [
        "amazon-main",
        "amazon-main/mine.txt",
    ]


def test_clearing_never_touches_files_outside_out_or_inside_the_input(tmp_path: Path) -> None:
    # Given a tampered summary naming a file outside --out, and the input folder inside --out
    out = tmp_path / "out"
    photos = out / "photos"
    photos.mkdir(parents=True)
    (photos / "red.jpg").write_bytes(b"input")
    (tmp_path / "elsewhere.txt").write_text("keep", encoding="utf-8")
    summary = {
        "schema": SUMMARY_SCHEMA,
        "items": [{"output_file": "../elsewhere.txt"}, {"output_file": "photos/red.jpg"}],
    }
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    # When the previous run is cleared
    removed = remove_previous_run(out, photos)
    # Then only the summary went: neither the outside file nor the input was touched
    assert removed == 1
    assert (tmp_path / "elsewhere.txt").exists()
    assert (photos / "red.jpg").exists()


def test_a_folder_without_a_summary_of_ours_is_left_as_it_is(tmp_path: Path) -> None:
    # Given an output folder holding files but no local-run summary.json
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("someone else's", encoding="utf-8")
    (out / "summary.json").write_text('{"schema": "something/else"}', encoding="utf-8")
    # When the previous run is cleared
    # Then nothing is removed
    assert remove_previous_run(out, tmp_path / "photos") == 0
    assert (out / "report.html").exists()


def test_an_out_inside_the_input_folder_is_cleared_too(tmp_path: Path) -> None:
    # Given --out inside DIR, holding the previous run's files
    photos = tmp_path / "photos"
    (photos / "shoes").mkdir(parents=True)
    (photos / "shoes" / "red.jpg").write_bytes(b"input")
    _previous_run(photos / "out", ["shoes/red.png"])
    # When the previous run is cleared
    removed = remove_previous_run(photos / "out", photos)
    # Then its files are gone (they are outputs, not inputs), and the input stays
    assert removed == 4
    assert not (photos / "out" / "shoes").exists()
    assert (photos / "shoes" / "red.jpg").exists()


def test_an_out_below_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    # Given --out below a file (it cannot be created)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"jpg")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    # When a run is asked to write there
    with pytest.raises(RunFolderError) as raised:
        run_directory(tmp_path / "photos", tmp_path / "notes.txt" / "out")
    # Then the error is one line, before any stack is started
    assert str(raised.value).startswith(f"cannot create --out {tmp_path / 'notes.txt' / 'out'}")
    assert "\n" not in str(raised.value)
