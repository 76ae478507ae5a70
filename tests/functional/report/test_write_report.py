"""``write_report``: one row per input, escaped, self-contained, and it never fails on a bad input."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutout_tools.report import PREVIEW_MAX_SIDE, NoPreview, Preview, preview, render_report, write_report
from tests.functional.report.page import parse_report
from tests.functional.report.run_on_disk import (
    DELIVERABLES_KEY,
    HOSTILE_KEY,
    VARIANTS,
    make_deliverables_run,
    make_review_run,
    make_run,
    product_photo,
)


def truncated_png() -> bytes:
    buffer = io.BytesIO()
    product_photo().save(buffer, format="PNG")
    return buffer.getvalue()[:200]


def decode_data_uri(uri: str) -> tuple[str, Image.Image]:
    header, payload = uri.split(",", 1)
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return header.removeprefix("data:").removesuffix(";base64"), image


def test_the_report_has_one_row_per_input_with_its_key_and_status(tmp_path: Path) -> None:
    # Given a run with done and failed inputs
    run = make_run(tmp_path)

    # When its report is written
    path = write_report(run.out_dir, run.summary)

    # Then it is out_dir/report.html, with one row per item, failures before done, with key and status
    assert path == run.out_dir / "report.html"
    page = parse_report(path.read_text(encoding="utf-8"))
    assert [row.key for row in page.rows] == run.keys_in_report_order
    statuses = {item["key"]: item["status"] for item in run.summary["items"]}
    assert [row.status for row in page.rows] == [statuses[key] for key in run.keys_in_report_order]


def test_markup_in_keys_and_messages_is_shown_as_text_never_parsed(tmp_path: Path) -> None:
    # Given a key and an error message holding markup, quotes, an ampersand and unicode
    run = make_run(tmp_path)

    # When the report is rendered
    html = render_report(run.out_dir, run.summary)

    # Then the page has no script element, and the strings come back intact as text
    page = parse_report(html)
    assert "script" not in page.tags
    assert HOSTILE_KEY in [row.key for row in page.rows]
    assert "The JPEG file is incomplete <EOI> & cut off." in page.text
    assert "<script>alert" not in html


def test_done_rows_show_both_images_inline_and_transparency_on_a_checkerboard(tmp_path: Path) -> None:
    # Given a transparent PNG cut-out (mug) and a cut-out on white as JPEG (tote bag)
    run = make_run(tmp_path)

    # When the report is rendered
    rows = {row.key: row for row in parse_report(render_report(run.out_dir, run.summary)).rows}

    # Then each done row inlines the original and the cut-out; only the transparent one is on a checkerboard
    mug, tote = rows["kitchen/mug.jpg"], rows["bags/tote bag.png"]
    assert [decode_data_uri(src)[0] for src in mug.image_sources] == ["image/jpeg", "image/webp"]
    assert [decode_data_uri(src)[0] for src in tote.image_sources] == ["image/jpeg", "image/jpeg"]
    assert "checker" in mug.frame_classes[1]
    assert "checker" not in tote.frame_classes[1]
    assert decode_data_uri(mug.image_sources[1])[1].mode == "RGBA"


def test_every_variant_of_every_input_is_shown_with_its_size_bytes_and_key(tmp_path: Path) -> None:
    # Given a run with the default profiles: two inputs, each with a master and three variants
    run = make_deliverables_run(tmp_path)

    # When the report is rendered
    html = render_report(run.out_dir, run.summary)
    page = parse_report(html)

    # Then each row shows the original, the master and every variant, each inlined
    assert len(page.rows) == 2
    for row in page.rows:
        assert len(row.image_sources) == 2 + len(VARIANTS)
        assert all(source.startswith("data:image/") for source in row.image_sources)
        assert f"masters/{row.key}.png" in row.text
        # ... each variant with its name, its size, its bytes and its key
        item = next(item for item in run.summary["items"] if item["key"] == row.key)
        for output in item["outputs"]:
            assert output["variant"] in row.text
            assert f"{output['width']} × {output['height']}" in row.text
            assert output["key"] in row.text
            size = output["bytes"]
            assert (f"{size} B" if size < 1024 else f"{size / 1024:.0f} KB") in row.text
    # and the header counts the variants
    assert html.count('data-variant="') == 2 * len(VARIANTS)
    assert "<b>6</b> <span>variants</span>" in html
    mug = next(row for row in page.rows if row.key == DELIVERABLES_KEY)
    assert "checker" in mug.frame_classes[1]  # the master is transparent


def test_failed_rows_show_the_reason_code_and_message_and_a_placeholder(tmp_path: Path) -> None:
    # Given an input that is not an image, and one whose file is gone
    run = make_run(tmp_path)

    # When the report is rendered
    rows = {row.key: row for row in parse_report(render_report(run.out_dir, run.summary)).rows}

    # Then both rows say why they failed and show placeholders instead of images
    notes, gone = rows["broken/notes.jpg"], rows["broken/gone.jpg"]
    assert "not_an_image" in notes.text
    assert "The file is not an image" in notes.text
    assert "not an image Pillow can read" in notes.text
    assert "truncated_image" in gone.text
    assert "file not found" in gone.text
    assert notes.image_sources == gone.image_sources == []


def test_the_header_has_the_totals_billed_calls_and_wall_time(tmp_path: Path) -> None:
    # Given a run of 5 inputs, 3 done, 2 failed, 3 billed calls, 12.3 s
    run = make_run(tmp_path)

    # When the report is rendered
    text = " ".join(parse_report(render_report(run.out_dir, run.summary)).text.split())

    # Then the header says so
    assert "5 inputs" in text
    assert "3 done" in text
    assert "2 failed" in text
    assert "3 billed calls (of 3)" in text
    assert "12.3 s in all (the stack's start and stop included)" in text


def test_the_report_is_self_contained_and_previews_are_downscaled(tmp_path: Path) -> None:
    # Given a run whose original is larger than a preview
    run = make_run(tmp_path)
    product_photo((1600, 1200)).save(Path(run.summary["items"][0]["input_file"]), quality=90)

    # When the report is rendered
    page = parse_report(render_report(run.out_dir, run.summary))

    # Then nothing is fetched (no src or href but data: URIs and anchors), and previews are small
    assert page.external_references == []
    assert {"link", "script", "iframe"}.isdisjoint(page.tags)
    first = next(row for row in page.rows if row.anchor == "item-1")
    original = decode_data_uri(first.image_sources[0])[1]
    assert max(original.size) == PREVIEW_MAX_SIDE
    assert "1600 × 1200" in first.text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param({"status": "timed_out"}, "timed_out", id="unknown-status"),
        pytest.param({"output_file": "kitchen/missing.png"}, "file not found", id="output-file-missing"),
        pytest.param({"output_file": "../in/kitchen/mug.jpg"}, "outside the output folder", id="escapes"),
        pytest.param({"output_file": None}, "no output file in the summary", id="done-without-output"),
        pytest.param({"input_file": None}, "no input file in the summary", id="no-input-file"),
        pytest.param({"metadata": "not a mapping", "dlq_record": 42}, "kitchen/mug.jpg", id="odd-shapes"),
    ],
)
def test_every_odd_item_still_gets_a_row(tmp_path: Path, change: dict[str, object], expected: str) -> None:
    # Given a run whose first item is odd in one way
    run = make_run(tmp_path)
    run.summary["items"][0].update(change)

    # When the report is written
    page = parse_report(write_report(run.out_dir, run.summary).read_text(encoding="utf-8"))

    # Then every item still has its row, and the odd one says what is odd
    assert len(page.rows) == len(run.keys)
    assert expected in next(row for row in page.rows if row.anchor == "item-1").text


def test_a_summary_with_nothing_in_it_still_makes_a_page(tmp_path: Path) -> None:
    # Given an empty summary (no schema, no items)
    summary: dict[str, object] = {}

    # When its report is written
    page = parse_report(write_report(tmp_path / "out", summary).read_text(encoding="utf-8"))

    # Then the page says there were no inputs and warns about the schema
    assert page.rows == []
    assert "This run has no inputs." in page.text
    assert "cutout.local-run/1" in page.text


def test_writing_again_replaces_the_report_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    # Given a report already written
    run = make_run(tmp_path)
    write_report(run.out_dir, run.summary)

    # When it is written again for a run with one item less
    run.summary["items"].pop()
    path = write_report(run.out_dir, run.summary)

    # Then the file has the new rows, and only report.html is new in out_dir
    assert len(parse_report(path.read_text(encoding="utf-8")).rows) == len(run.keys)
    assert sorted(name for name in os.listdir(run.out_dir) if name.endswith(".html")) == ["report.html"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "not an image Pillow can read", id="empty"),
        pytest.param(b"hello, world\n", "not an image Pillow can read", id="text"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(40), "not an image Pillow can read", id="png-signature"),
        pytest.param(b"truncated PNG", "cannot be previewed", id="truncated-png"),
    ],
)
def test_a_broken_file_gets_no_preview_and_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    # Given a file that is not a readable image
    path = tmp_path / "photo.jpg"
    path.write_bytes(truncated_png() if content == b"truncated PNG" else content)

    # When it is previewed
    result = preview(path)

    # Then there is no preview, and a reason
    assert isinstance(result, NoPreview)
    assert reason in result.reason


def test_a_truncated_jpeg_gets_no_preview(tmp_path: Path) -> None:
    # Given a JPEG cut in the middle of its data
    buffer = io.BytesIO()
    product_photo().save(buffer, format="JPEG", quality=90)
    path = tmp_path / "truncated.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])

    # When it is previewed
    result = preview(path)

    # Then there is no preview
    assert isinstance(result, NoPreview)


def test_an_opaque_png_with_an_alpha_channel_is_previewed_as_opaque(tmp_path: Path) -> None:
    # Given an RGBA PNG whose pixels are all opaque
    path = tmp_path / "opaque.png"
    product_photo().convert("RGBA").save(path)

    # When it is previewed
    result = preview(path)

    # Then it is a JPEG preview, reported without alpha, with the original's size
    assert isinstance(result, Preview)
    assert result.data_uri.startswith("data:image/jpeg;base64,")
    assert (result.has_alpha, result.width, result.height, result.format) == (False, 640, 480, "PNG")


def test_rows_to_review_are_listed_first_with_their_reasons(tmp_path: Path) -> None:
    # Given a run with an empty cut-out (score 0.0000) and a low-score one
    run = make_review_run(tmp_path)

    # When its report is rendered
    html = render_report(run.out_dir, run.summary)
    page = parse_report(html)
    text = " ".join(page.text.split())

    # Then both come first, in the review colour, with their reasons, and the header counts them
    assert [row.key for row in page.rows] == run.keys_in_report_order
    assert [row.flags for row in page.rows[:2]] == [["empty_mask", "low_score"], ["low_score"]]
    assert all("review" in row.classes for row in page.rows[:2])
    assert not any("review" in row.classes for row in page.rows[2:])
    assert "2 to review" in text
    assert "2 to look at" in text
    assert "empty cut-out: 0.0% of the picture kept as subject" in text
    assert "low score 0.46" in text


def test_an_interrupted_run_says_so_and_shows_the_inputs_without_outcome(tmp_path: Path) -> None:
    # Given the summary of a run stopped with Ctrl-C: one input was never uploaded
    run = make_run(tmp_path)
    run.summary["interrupted"] = True
    run.summary["items"][1].update(
        status="interrupted",
        output_file=None,
        metadata=None,
        error="interrupted before this file was uploaded",
    )

    # When its report is rendered
    page = parse_report(render_report(run.out_dir, run.summary))
    text = " ".join(page.text.split())

    # Then the page says the run was interrupted, and the input says why it has no outcome
    assert "This run was interrupted" in text
    row = next(row for row in page.rows if row.anchor == "item-2")
    assert row.status == "interrupted"
    assert "interrupted before this file was uploaded" in row.text


def test_done_rows_say_who_answered_how_long_it_took_and_what_score_means(tmp_path: Path) -> None:
    # Given a local run's summary: the emulator answered, and each input's turnaround is known
    run = make_run(tmp_path)
    run.summary["engine_backend"] = "local Aidge emulator (studio engine)"
    run.summary["items"][0]["seconds"] = 3.4

    # When its report is rendered
    page = parse_report(render_report(run.out_dir, run.summary))
    mug = " ".join(next(row for row in page.rows if row.anchor == "item-1").text.split())

    # Then the row names the API and who answered it, and the turnaround instead of a timestamp
    assert "aidge, answered by the local Aidge emulator (studio engine)" in mug
    assert "turnaround3.4 s" in mug  # <dt>turnaround</dt><dd>3.4 s</dd>
    assert "2025-11-23T20:00:00" not in mug
    # And the page explains the score
    assert "the engine's own confidence in its cut-out, from 0 to 1" in " ".join(page.text.split())


def test_a_transparent_gradient_is_previewed_in_full_colour_without_bands(tmp_path: Path) -> None:
    # Given a transparent cut-out holding a smooth colour gradient and a soft alpha ramp
    width, height = 480, 240
    x = np.linspace(0, 1, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 1, height)[:, None].repeat(width, 1)
    rgba = np.dstack([x * 255, y * 255, (1 - x) * 200 + 30, np.clip(x * 2, 0, 1) * 255]).astype(np.uint8)
    path = tmp_path / "gradient.png"
    Image.fromarray(rgba, "RGBA").save(path)

    # When it is previewed
    result = preview(path)

    # Then the preview keeps its alpha, has far more than a palette's 256 colours, and stays close to it
    assert isinstance(result, Preview)
    mime, image = decode_data_uri(result.data_uri)
    assert (mime, image.mode, image.size) == ("image/webp", "RGBA", (width, height))
    shown = np.asarray(image).astype(np.int16)
    assert len(np.unique(shown[..., :3].reshape(-1, 3), axis=0)) > 5000
    assert np.abs(shown[..., 3] - rgba[..., 3]).max() <= 2  # alpha is kept losslessly
    visible = rgba[..., 3] > 128
    assert np.abs(shown[..., :3] - rgba[..., :3])[visible].mean() < 3
