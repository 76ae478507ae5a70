"""``make build``'s two checks (cutout_tools/build_checks.py), without running sam build.

The profiles file is validated as the function validates it at start, and a wrong one is one line
naming the file and the field; the runtime's Python (CPython 3.13) is found for the layer's bytecode,
or the build stops with one sentence saying how to get one.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cutout_tools.build_checks import HOW_TO_GET_PYTHON, check_profiles, find_runtime_python, main

REPO = Path(__file__).resolve().parents[3]
GOOD = """default = "shop"
[profiles.shop]
variants = [{ preset = "amazon-main" }]
"""


def fake_python(folder: Path, version: str, name: str = "python3.13") -> Path:
    """An executable that answers the version question as a Python ``version`` would ("3 13")."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_shipped_profiles_file_passes(tmp_path: Path) -> None:
    # Given the function's folder with its shipped profiles.toml
    # When it is checked as the build does
    # Then there is nothing to say
    assert check_profiles(REPO / "functions" / "process_upload", "profiles.toml") is None
    assert check_profiles(tmp_path, "") is None  # no profiles: the single cut-out mode


def test_a_typo_in_the_profiles_file_is_one_line_naming_file_profile_and_field(tmp_path: Path) -> None:
    # Given a profiles file with a mistyped field
    (tmp_path / "profiles.toml").write_text(GOOD.replace('{ preset = "amazon-main" }', '{ prest = "x" }'))
    # When it is checked
    problem = check_profiles(tmp_path, "profiles.toml")
    # Then one line names the file, the profile, the variant and the field
    assert problem is not None
    assert "\n" not in problem
    assert str(tmp_path / "profiles.toml") in problem
    assert "profile 'shop'" in problem
    assert "prest" in problem


def test_several_problems_are_one_line_that_says_how_to_see_them_all(tmp_path: Path) -> None:
    # Given a profiles file with two wrong variants
    (tmp_path / "p.toml").write_text(
        'default = "x"\n[profiles.x]\nvariants = [{ name = "a", format = "png", canvas = [600, 600] },'
        ' { name = "b", fromat = "png" }]\n'
    )
    # When it is checked
    problem = check_profiles(tmp_path, "p.toml")
    # Then the first is shown, and the rest are counted with the command that lists them
    assert problem is not None
    assert "\n" not in problem
    assert "variant 'a'" in problem
    assert f"(and 1 more: cutout profiles check {tmp_path / 'p.toml'})" in problem


def test_a_missing_profiles_file_is_named(tmp_path: Path) -> None:
    # Given a ProfilesFile setting naming a file the function folder does not have
    # When it is checked
    problem = check_profiles(tmp_path, "shop.toml")
    # Then the file is named and why it cannot be read
    assert problem is not None
    assert str(tmp_path / "shop.toml") in problem
    assert "cannot be read" in problem


def test_the_profiles_check_fails_without_a_traceback(tmp_path: Path) -> None:
    # Given a wrong profiles file
    (tmp_path / "profiles.toml").write_text("default = [")
    # When the build's check runs as make runs it
    done = subprocess.run(
        [sys.executable, "-m", "cutout_tools.build_checks", "profiles", "--function-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    # Then it fails with one line, no traceback
    assert done.returncode == 1
    assert done.stderr.startswith(f"make build: {tmp_path / 'profiles.toml'}")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_without_python3_13_the_build_stops_with_one_sentence_saying_how(tmp_path: Path) -> None:
    # Given a PATH with no python3.13 on it
    # When the runtime's Python is looked for
    found, why = find_runtime_python(None, path=str(tmp_path))
    # Then there is none, and the one sentence says how to get one
    assert found is None
    assert why == HOW_TO_GET_PYTHON
    assert why.count(". ") == 0
    assert why.endswith(".")
    assert "PYC_PYTHON=" in why
    assert "pyenv install 3.13" in why


@pytest.mark.parametrize(
    ("version", "found"), [("3 13", True), ("3 12", False), ("3 14", False), ("oops", False)]
)
def test_only_a_python_3_13_compiles_the_layer(tmp_path: Path, version: str, found: bool) -> None:
    # Given a python3.13 on the PATH that is (or is not) CPython 3.13
    fake_python(tmp_path / "bin", version)
    # When it is looked for
    executable, why = find_runtime_python(None, path=str(tmp_path / "bin"))
    # Then only 3.13 is taken; another says what it is
    assert (executable == str(tmp_path / "bin" / "python3.13")) is found
    assert (why == "") is found
    if version == "3 12":
        assert "is Python 3.12" in why


def test_a_python_given_by_path_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given PYC_PYTHON pointing at a CPython 3.13 outside the PATH
    python = fake_python(tmp_path / "opt", "3 13", name="python")
    # When the check runs
    code = main(["bytecode", "--python", str(python)])
    # Then it succeeds and prints the interpreter the layer's Makefile compiles with
    assert code == 0
    assert capsys.readouterr().out.strip() == str(python)


def test_allow_missing_warns_instead_of_failing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no python3.13 anywhere
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("PYC_PYTHON", raising=False)
    # When the check runs, then again with ALLOW_NO_BYTECODE's --allow-missing
    strict = main(["bytecode"])
    strict_err = capsys.readouterr().err
    allowed = main(["bytecode", "--allow-missing"])
    allowed_err = capsys.readouterr().err
    # Then the strict one fails with the sentence, the other warns and goes on
    assert strict == 1
    assert strict_err.strip() == HOW_TO_GET_PYTHON
    assert allowed == 0
    assert allowed_err.startswith("warning: the layer is built without bytecode")
    assert os.environ["PATH"] == str(tmp_path)
