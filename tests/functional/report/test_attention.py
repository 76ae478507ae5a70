"""What a person must look at: done cut-outs that are empty, whole-frame, cut by the frame, or unsure."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from cutout_tools.report.attention import LOW_SCORE, attention_flags, mask_facts
from cutout_tools.report.rows import build_rows
from tests.functional.report.run_on_disk import EMPTY_KEY, LOW_SCORE_KEY, make_review_run, transparent_cutout


def _codes(metadata: dict[str, object], path: Path | None, *, same_size: bool = True) -> list[str]:
    facts = mask_facts(path) if path is not None else None
    return [flag.code for flag in attention_flags(metadata, facts, same_size_as_original=same_size)]


def _rgba(path: Path, box: tuple[int, int, int, int] | None, size: tuple[int, int] = (400, 300)) -> Path:
    image = Image.new("RGBA", size, (255, 255, 255, 0))
    if box is not None:
        ImageDraw.Draw(image).rectangle(box, fill=(200, 40, 40, 255))
    image.save(path)
    return path


def test_a_clean_cutout_with_a_good_score_is_not_flagged(tmp_path: Path) -> None:
    # Given a transparent cut-out of a ring well inside the frame, score 0.93
    path = tmp_path / "ring.png"
    transparent_cutout().save(path)
    # When it is checked
    codes = _codes({"score": "0.9312"}, path)
    # Then there is nothing to look at
    assert codes == []


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        pytest.param(None, "empty_mask", id="fully-transparent"),
        pytest.param((0, 0, 399, 299), "whole_frame", id="nothing-removed"),
        pytest.param((250, 80, 399, 220), "cut_by_frame", id="runs-off-the-right-edge"),
    ],
)
def test_a_wrong_looking_mask_is_flagged(
    tmp_path: Path, box: tuple[int, int, int, int] | None, expected: str
) -> None:
    # Given a transparent cut-out whose subject is empty, the whole frame, or runs off an edge
    path = _rgba(tmp_path / "cutout.png", box)
    # When it is checked (a good score: only the mask speaks)
    codes = _codes({"score": "0.99"}, path)
    # Then the mask's problem is named
    assert codes == [expected]


def test_a_subject_touching_the_edges_of_a_target_sized_cutout_is_not_flagged(tmp_path: Path) -> None:
    # Given a cut-out scaled to a target size (it need not have the original's size), touching the edges
    path = _rgba(tmp_path / "cutout.png", (0, 40, 399, 260))
    # When it is checked as not the original's size
    codes = _codes({"score": "0.99"}, path, same_size=False)
    # Then touching the frame is what was asked for: no flag
    assert codes == []


def test_a_white_background_jpeg_is_read_by_its_non_white_pixels(tmp_path: Path) -> None:
    # Given a cut-out on white as JPEG: an all-white one, and one with a subject in the middle
    blank, good = tmp_path / "blank.jpg", tmp_path / "good.jpg"
    Image.new("RGB", (400, 300), "white").save(blank, quality=85)
    image = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(image).ellipse((120, 60, 280, 240), fill=(60, 60, 60))
    image.save(good, quality=85)
    # When both are checked
    # Then the blank one is empty and the other is fine
    assert _codes({"score": "0.9"}, blank) == ["empty_mask"]
    assert _codes({"score": "0.9"}, good) == []


@pytest.mark.parametrize(
    ("score", "flagged"),
    [("0.0000", True), ("0.46", True), (str(LOW_SCORE), False), ("0.88", False), ("", False), ("n/a", False)],
)
def test_a_low_score_is_flagged(score: str, flagged: bool) -> None:
    # Given only the output's metadata (no file to read)
    # When it is checked
    codes = _codes({"score": score}, None)
    # Then a score under the threshold, and only that, is flagged
    assert codes == (["low_score"] if flagged else [])


def test_the_quality_gate_verdict_flags_a_row_with_its_reasons() -> None:
    # Given metadata carrying a quality-gate verdict other than pass (the hook for the gate)
    metadata = {"score": "0.97", "quality-verdict": "review", "quality-reasons": "halo, thin parts"}
    # When it is checked
    flags = attention_flags(metadata, None)
    # Then the gate's verdict and reasons flag the row; a pass does not
    assert [(flag.code, flag.sentence) for flag in flags] == [
        ("quality_gate", "quality gate: review: halo, thin parts")
    ]
    assert attention_flags({"score": "0.97", "quality-verdict": "pass"}, None) == []


def test_an_unreadable_cutout_gets_no_mask_facts(tmp_path: Path) -> None:
    # Given a file that is not an image
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image")
    # When its mask is read
    # Then there are no facts (and no exception): its preview says what is wrong
    assert mask_facts(path) is None


def test_rows_to_review_come_first_in_summary_order(tmp_path: Path) -> None:
    # Given a run with an empty cut-out (score 0.0000) and a low-score one, listed last in the summary
    run = make_review_run(tmp_path)
    # When its rows are built
    rows = build_rows(run.out_dir, run.summary["items"])
    # Then those two come first, flagged, then the failures, then the other done rows
    assert [row.key for row in rows] == run.keys_in_report_order
    assert [row.key for row in rows[:2]] == [EMPTY_KEY, LOW_SCORE_KEY]
    assert [flag.code for flag in rows[0].flags] == ["empty_mask", "low_score"]
    assert [flag.code for flag in rows[1].flags] == ["low_score"]
    assert [row.row_class for row in rows] == ["review", "review", "failed", "failed", "done", "done", "done"]


def test_a_cut_out_held_by_the_gate_is_flagged_with_its_reasons() -> None:
    # Given the metadata the quality gate writes on a held cut-out's outputs
    metadata = {"score": "0.97", "review-reasons": "low_score,upscaled"}
    # When it is checked
    flags = attention_flags(metadata, None)
    # Then the row is flagged with the gate's reasons
    assert [(flag.code, flag.sentence) for flag in flags] == [
        ("quality_gate", "held by the quality gate: low_score, upscaled")
    ]


def test_the_report_flags_scores_under_the_gates_own_threshold() -> None:
    # Given the report's threshold and the gate's default
    from cutout.quality_gate import REVIEW_SCORE, QualityThresholds

    # Then they are one and the same setting
    assert LOW_SCORE == REVIEW_SCORE == QualityThresholds().min_score
