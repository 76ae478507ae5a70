"""`cutout profiles preview` says when the pipeline would refuse the image or the gate would hold the
cut-out, and a wrong profiles file is exit 1 in every command that reads one (issue 26)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutout_tools.cli import main

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "functions" / "process_upload" / "profiles.toml"
SAMPLES = REPO / "samples"
WRONG = 'default = "x"\n[profiles.x]\nvariants = [{ name = "a", format = "png", canvas = [600, 600] }]\n'

pytestmark = pytest.mark.slow  # the studio engine cuts each image out


def test_preview_warns_when_the_pipeline_would_refuse_the_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo's 80x60 image, which validation refuses (the API's minimum is 100 px)
    image = SAMPLES / "broken" / "too-small.png"
    # When it is previewed
    code = main(["profiles", "preview", str(SHIPPED), str(image), "--out", str(tmp_path)])
    # Then it is rendered (a preview), with a warning naming the reason code
    err = capsys.readouterr().err
    assert code == 0
    assert "warning: the pipeline would refuse this image before paying (image_too_small:" in err


def test_preview_warns_when_the_gate_would_hold_the_cut_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the demo's linen mug (score 0.77) and its well-lit studio mug
    linen = SAMPLES / "scenes" / "linen-grey-mug.jpg"
    mug = SAMPLES / "kitchen" / "mug.jpg"
    # When each is previewed
    main(["profiles", "preview", str(SHIPPED), str(linen), "--out", str(tmp_path)])
    linen_err = capsys.readouterr().err
    main(["profiles", "preview", str(SHIPPED), str(mug), "--out", str(tmp_path)])
    mug_err = capsys.readouterr().err
    # Then the linen one is said to be held (low_score), the studio one has nothing to warn of
    assert "warning: the quality gate would hold this cut-out for review (low_score)" in linen_err
    assert "warning" not in mug_err


def test_a_wrong_profiles_file_is_exit_1_in_check_preview_and_rerender(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a profiles file with a list for a canvas
    wrong = tmp_path / "profiles.toml"
    wrong.write_text(WRONG, encoding="utf-8")
    image = SAMPLES / "kitchen" / "mug.jpg"
    # When each command that reads a profiles file is given it
    codes = [
        main(["profiles", "check", str(wrong)]),
        main(["profiles", "preview", str(wrong), str(image), "--out", str(tmp_path / "out")]),
        main(["rerender", "--profiles", str(wrong), "--endpoint-url", "http://127.0.0.1:9"]),
    ]
    # Then each exits 1 (the file is wrong: not a usage error), naming the field the same way
    err = capsys.readouterr().err
    assert codes == [1, 1, 1]
    assert err.count("variant 'a' (#1): canvas: a canvas is a string, not a list") == 3
