"""``bench/mutation.py`` reads the equivalent mutants recorded in ``docs/mutation.md`` and counts
them apart: a row must match its own mutant and no other (a real survivor hidden as "equivalent"
would inflate the score), and every module's tests must exist (a missing path would run fewer
tests and lower the score for no bug).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cutout_bench_mutation", ROOT / "bench" / "mutation.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mutation = _script()


def _survivor(code: str, becomes: str, occurrence: int | None = None) -> dict[str, object]:
    entry: dict[str, object] = {
        "operator": "core/ReplaceBinaryOperator_Mul_Div",
        "code": code,
        "becomes": becomes,
    }
    if occurrence is not None:
        entry["occurrence"] = occurrence
    return entry


def test_every_row_of_the_equivalents_table_is_read() -> None:
    # Given the docs' table of equivalent mutants
    text = (ROOT / "docs" / "mutation.md").read_text(encoding="utf-8")
    table = text.split("## Equivalent mutants", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    # When the script reads it
    read = mutation.recorded_equivalents()
    # Then no row is lost to a formatting slip (each row is a distinct mutant)
    assert rows
    assert len(read) == len(rows)


@pytest.mark.parametrize(
    ("occurrence", "recorded"),
    [(1, True), (2, False), (None, True)],  # None: a result saved before occurrences were kept
)
def test_a_row_for_one_occurrence_of_a_line_matches_that_occurrence_only(
    occurrence: int | None, recorded: bool
) -> None:
    # Given a line written twice in a module, recorded as equivalent on its first occurrence only
    equivalents = {("storage.objects", "core/ReplaceBinaryOperator_Mul_Div", "*,", "/,", 1)}
    # When a survivor on one of the two lines is judged
    judged = mutation._is_equivalent("storage.objects", _survivor("*,", "/,", occurrence), equivalents)
    # Then only the recorded occurrence counts as equivalent; the twin stays a survivor
    assert judged is recorded


@pytest.mark.parametrize("occurrence", [1, 2, 7])
def test_a_row_without_an_occurrence_matches_every_line_with_that_text(occurrence: int) -> None:
    # Given a row that says every line with that text is equivalent (e.g. ``slots=False``)
    equivalents = {("paid_call", "core/ReplaceBinaryOperator_Mul_Div", "*,", "/,", None)}
    # When any occurrence survives
    # Then it is counted as equivalent
    assert mutation._is_equivalent("paid_call", _survivor("*,", "/,", occurrence), equivalents)


@pytest.mark.parametrize(
    ("name", "code", "becomes"),
    [
        ("paid_call", "*,", "/ ,"),  # another mutant of the same line
        ("paid_call", "* ,x", "/,"),  # another line
        ("storage.objects", "*,", "/,"),  # the same line in another module
    ],
)
def test_a_row_matches_its_own_module_line_and_mutant_only(name: str, code: str, becomes: str) -> None:
    # Given one recorded equivalent mutant
    equivalents = {("paid_call", "core/ReplaceBinaryOperator_Mul_Div", "*,", "/,", None)}
    # When a different survivor is judged
    # Then it is not equivalent
    assert not mutation._is_equivalent(name, _survivor(code, becomes), equivalents)


def test_the_occurrence_of_a_line_counts_the_lines_with_the_same_code_before_it(tmp_path: Path) -> None:
    # Given a module where one line's code appears three times, indented differently
    (tmp_path / "m.py").write_text("a = 1\n  stream.seek(0)\nb = 2\nstream.seek(0)\n    stream.seek( 0)\n")
    # When each line is read
    # Then the code has its blanks collapsed, and the occurrence counts the same code above it
    assert mutation._line_of(tmp_path, "m.py", 2) == ("stream.seek(0)", 1)
    assert mutation._line_of(tmp_path, "m.py", 4) == ("stream.seek(0)", 2)
    assert mutation._line_of(tmp_path, "m.py", 5) == ("stream.seek( 0)", 1)
    assert mutation._line_of(tmp_path, "m.py", 1) == ("a = 1", 1)
    assert mutation._line_of(tmp_path, "m.py", 6) == ("", 1)


def test_the_docs_row_for_one_occurrence_is_read_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table with a row for the second occurrence of a line, and one for every occurrence
    doc = tmp_path / "mutation.md"
    doc.write_text(
        "| module | operator | line | becomes | why |\n| --- | --- | --- | --- | --- |\n"
        "| `m.x` | `core/NumberReplacer` | `seek(0)` (occurrence 2) | `seek( 1)` | why |\n"
        "| `m.x` | `core/NumberReplacer` | `a  =  1` | `a = 2` | why |\n"
        "| `m.x` | `core/NumberReplacer` | `b: int \\| None = 0` | `b: int \\| None = 1` | why |\n"
    )
    monkeypatch.setattr(mutation, "EQUIVALENTS_DOC", doc)
    # When it is read
    # Then the occurrence is kept, the code's blanks are collapsed, and an escaped "|" is read back
    assert mutation.recorded_equivalents() == {
        ("m.x", "core/NumberReplacer", "seek(0)", "seek( 1)", 2),
        ("m.x", "core/NumberReplacer", "a = 1", "a = 2", None),
        ("m.x", "core/NumberReplacer", "b: int | None = 0", "b: int | None = 1", None),
    }


@pytest.mark.parametrize("name", sorted(mutation.MODULES))
def test_every_module_and_its_tests_exist(name: str) -> None:
    # Given a module of the mutation run
    module = mutation.MODULES[name]
    # When its paths are looked up
    # Then the module and every test path exist (a missing one would silently run fewer tests)
    assert (ROOT / mutation.PACKAGE_DIR / module.path).is_file()
    missing = [test for test in module.tests if not (ROOT / test).exists()]
    assert not missing
    assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)*", name)
