"""Mutation score of the modules that hold the product's rules (``make mutation``).

A benchmark-like script, never part of ``make test``: it prints the score per module and lists
the surviving mutants. Each module is mutated by cosmic-ray (pinned in requirements-dev.txt) in a
throw-away copy of the repository (the work tree is never touched), and each mutant runs only the
tests relevant to that module (``MODULES`` below), one pytest process per mutant, stopping at the
first failure. Runs are per module so one is tractable on a small machine::

    .venv/bin/python bench/mutation.py                       # every module (long: see docs/mutation.md)
    .venv/bin/python bench/mutation.py spending.guard validation.webp
    .venv/bin/python bench/mutation.py --list                # the modules and their tests
    .venv/bin/python bench/mutation.py --at b0070ff spending.guard   # code and tests of a commit
    .venv/bin/python bench/mutation.py --report              # the last results, against docs/mutation.md

Operators: cosmic-ray's core set without the ones that make no realistic bug here (arithmetic
operators swapped for shifts, powers and bitwise ones; ``==`` swapped for ``is``; the variable
replacer and inserter). Survivors recorded as equivalent in ``docs/mutation.md`` (the table
"Equivalent mutants": module, operator, the line's code and what it becomes) are counted apart,
with their reason.
Results are written to ``bench/results-mutation.json`` (module by module, merged with earlier runs).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path("layers/cutout/cutout")
RESULTS = REPO / "bench" / "results-mutation.json"
EQUIVALENTS_DOC = REPO / "docs" / "mutation.md"
# What a test run needs from the repository (copied: a mutant must never reach the work tree).
STAGED = ("layers", "functions", "tools", "tests", "events", "schemas", "samples", "docs", "pyproject.toml")
MUTANT_TIMEOUT_SECONDS = 120.0

# Operators that make no realistic single-point bug in this code base (see the module docstring).
EXCLUDED_OPERATORS = (
    r"core/ReplaceBinaryOperator_.*_(Pow|RShift|LShift|BitOr|BitAnd|BitXor)$",
    r"core/ReplaceBinaryOperator_(Pow|RShift|LShift|BitOr|BitAnd|BitXor)_.*",
    r"core/ReplaceComparisonOperator_(Eq|NotEq|Lt|LtE|Gt|GtE)_(Is|IsNot)$",
    r"core/ReplaceComparisonOperator_(Is|IsNot)_(Lt|LtE|Gt|GtE)$",
    r"core/ReplaceComparisonOperator_Is_Eq$",
    r"core/ReplaceComparisonOperator_IsNot_NotEq$",
    r"core/VariableReplacer",
    r"core/VariableInserter",
)


@dataclass(frozen=True)
class Module:
    """A module under mutation and the tests that speak for it."""

    path: str  # under layers/cutout/cutout
    tests: tuple[str, ...]  # the most specific first: pytest stops at the first failure (-x)
    rule: str


MODULES: dict[str, Module] = {
    "paid_call": Module(
        "paid_call/step.py",
        ("tests/unit/paid_call/test_paid_call_reports.py", "tests/unit/paid_call"),
        "the paid call and its checkpoint: never pay twice",
    ),
    "spending.guard": Module(
        "spending/guard.py",
        (
            "tests/unit/spending/test_release_table.py",
            "tests/unit/spending/test_spending_guard.py",
            "tests/unit/spending/test_guard_options.py",
        ),
        "release only what was not billed; pause when we cannot pay",
    ),
    "spending.ledger": Module(
        "spending/ledger.py",
        (
            "tests/unit/spending/test_ledger_rules.py",
            "tests/unit/spending/test_budget_caps_both_sides.py",
            "tests/unit/spending/test_spending_guard.py",
            "tests/unit/spending",
        ),
        "the budget caps, day and month",
    ),
    "engine.aidge.errors": Module(
        "engine/aidge/errors.py",
        (
            "tests/unit/engine/test_aidge_error_table.py",
            "tests/unit/engine/test_aidge_errors.py",
            "tests/unit/spending/test_release_table.py",
            "tests/unit/engine/test_result_download_table.py",
        ),
        "Aidge's answers mapped to errors, billed or not",
    ),
    "engine.aidge.result_url": Module(
        "engine/aidge/result_url.py",
        ("tests/unit/engine/test_result_url_expiry.py", "tests/unit/engine"),
        "the signed result URL's expiry, read after a billed call",
    ),
    "engine.aidge.url_safety": Module(
        "engine/aidge/url_safety.py",
        (
            "tests/unit/engine/test_url_safety_edges.py",
            "tests/unit/engine/test_aidge_url_safety.py",
            "tests/unit/engine/test_result_url_policy.py",
        ),
        "where a result may be fetched from",
    ),
    "engine.aidge.result_download": Module(
        "engine/aidge/result_download.py",
        (
            "tests/unit/engine/test_result_download_table.py",
            "tests/unit/engine/test_aidge_result_download.py",
            "tests/unit/engine/test_result_download_limits.py",
            "tests/unit/engine/test_result_url_policy.py",
            "tests/unit/engine/test_aidge_client.py",
        ),
        "downloading the paid result",
    ),
    "validation.limits": Module(
        "validation/limits.py",
        (
            "tests/unit/validation/test_read_limits.py",
            "tests/unit/validation/test_limits_both_sides.py",
            "tests/unit/validation",
        ),
        "the input limits",
    ),
    "validation.webp": Module(
        "validation/webp.py",
        (
            "tests/unit/validation/test_webp_header.py",
            "tests/unit/validation/test_limits_both_sides.py",
            "tests/unit/validation",
        ),
        "the WebP header",
    ),
    "validation.inspection": Module(
        "validation/inspection.py",
        ("tests/unit/validation/test_limits_both_sides.py", "tests/unit/validation"),
        "never pay for a bad input",
    ),
    "validation.metadata": Module(
        "validation/metadata.py",
        ("tests/unit/validation/test_metadata_facts.py", "tests/unit/validation", "tests/unit/normalisation"),
        "orientation, GPS and every kind of metadata from the header (rule 5)",
    ),
    "normalisation.normalise": Module(
        "normalisation/normalise.py",
        ("tests/unit/normalisation/test_normalise_limits.py", "tests/unit/normalisation"),
        "orientation applied, metadata dropped before the vendor",
    ),
    "pixels.codecs": Module(
        "pixels/codecs.py",
        (
            "tests/unit/normalisation/test_orientation_and_privacy.py",
            "tests/unit/pixels",
            "tests/unit/normalisation",
        ),
        "the EXIF orientation applied; encodings carry no metadata",
    ),
    "normalisation.passthrough": Module(
        "normalisation/passthrough.py",
        ("tests/unit/normalisation/test_passthrough_rules.py", "tests/unit/normalisation"),
        "what may go to the vendor as uploaded",
    ),
    "variants.layout": Module(
        "variants/layout.py",
        (
            "tests/unit/variants/test_layout_rules.py",
            "tests/unit/variants/test_layout.py",
            "tests/unit/variants/test_layout_limits.py",
            "tests/unit/variants/test_layout_combinations.py",
            "tests/unit/variants",
        ),
        "canvas, fit and margins of a variant",
    ),
    "dead_letter.record": Module(
        "dead_letter/record.py",
        (
            "tests/unit/events/test_dead_letter_record.py",
            "tests/unit/events/test_failure_record.py",
            "tests/unit/engine/test_no_secrets_leave.py",
        ),
        "a DLQ record that says why",
    ),
    "dead_letter.checkpoint": Module(
        "dead_letter/checkpoint.py",
        (
            "tests/unit/dead_letter/test_dead_letter_checkpoint_rules.py",
            "tests/unit/dead_letter",
            "tests/unit/pipeline/test_dead_letter_once.py",
        ),
        "an upload's failure recorded once (one outcome)",
    ),
    "events.failure_record": Module(
        "events/failure_record.py",
        (
            "tests/unit/events/test_failure_record_limits.py",
            "tests/unit/events/test_failure_record.py",
            "tests/unit/events",
        ),
        "the DLQ record's shape",
    ),
    "ordering.newest": Module(
        "ordering/newest.py",
        (
            "tests/unit/ordering/test_ordered_writes_rules.py",
            "tests/unit/ordering/test_source_stamp_rules.py",
            "tests/unit/ordering",
        ),
        "the newest version wins",
    ),
    "storage.output": Module(
        "storage/output.py",
        ("tests/unit/storage/test_output_limits.py", "tests/unit/storage"),
        "the output's key and metadata (size limits)",
    ),
    "storage.objects": Module(
        "storage/objects.py",
        (
            "tests/unit/storage/test_s3_object_store_rules.py",
            "tests/unit/storage/test_object_keys_and_layer_imports.py",
            "tests/unit/storage/test_s3_answers.py",
            "tests/unit/storage",
            "tests/unit/ordering/test_racing_versions.py",
        ),
        "the conditional PUT (If-None-Match: * on the first write)",
    ),
}


# --- the equivalent mutants recorded in docs/mutation.md ------------------------------------------

_ROW = re.compile(
    r"^\|\s*`(?P<module>[\w.]+)`\s*\|\s*`(?P<operator>[^`]+)`\s*\|\s*`(?P<code>[^`]+)`"
    r"(?:\s*\(occurrence (?P<nth>\d+)\))?\s*\|\s*`(?P<becomes>[^`]+)`\s*\|"
)
# (module, operator, line, mutated line, occurrence): the occurrence (1 for the module's first line
# with that text, ...) is None when every line with that text is meant.
Equivalents = set[tuple[str, str, str, str, int | None]]


def _becomes(diff: str) -> str:
    """The mutated line, from a survivor's diff (what tells two mutants of one line apart)."""
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            return " ".join(line[1:].split())
    return ""


def _is_equivalent(name: str, entry: dict[str, Any], equivalents: Equivalents) -> bool:
    """Whether docs/mutation.md records this survivor as equivalent.

    Matched on what the mutant makes of the line; an entry saved without its diff (older results)
    on the line alone.
    """
    becomes = entry.get("becomes") or _becomes(entry.get("diff", ""))
    occurrence = entry.get("occurrence")  # absent from results saved before it was recorded
    return any(
        row[:3] == (name, entry["operator"], entry["code"])
        and (not becomes or row[3] == becomes)
        and (row[4] is None or occurrence is None or row[4] == occurrence)
        for row in equivalents
    )


def recorded_equivalents() -> Equivalents:
    """(module, operator, line, mutated line) of every mutant docs/mutation.md says is equivalent."""
    if not EQUIVALENTS_DOC.exists():
        return set()
    rows = set()
    for line in EQUIVALENTS_DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows.add(
                (
                    match["module"],
                    match["operator"],
                    # a "|" in a table cell is written "\|" (or it would end the cell)
                    " ".join(match["code"].replace("\\|", "|").split()),
                    " ".join(match["becomes"].replace("\\|", "|").split()),
                    int(match["nth"]) if match["nth"] else None,
                )
            )
    return rows


# --- one module -----------------------------------------------------------------------------------


def _stage(into: Path, at: str | None = None) -> None:
    """Copy what the tests need: from the work tree, or from the commit ``at`` (a "before" figure)."""
    if at is not None:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", at, *STAGED],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
        return
    for name in STAGED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source,
                into / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.egg-info"),
                symlinks=True,
            )
        elif source.exists():
            shutil.copy2(source, into / name)


def _config(stage: Path, module: Module) -> Path:
    python = Path(sys.executable)
    tests = " ".join(t for t in module.tests if (stage / t).exists())
    command = (
        f"{python} -m pytest -x -q -n 0 -p no:randomly -p no:cacheprovider --timeout=60 "
        f"-W ignore::pytest.PytestUnraisableExceptionWarning {tests}"
    )
    excluded = ", ".join(json.dumps(pattern) for pattern in EXCLUDED_OPERATORS)
    config = stage / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{PACKAGE_DIR / module.path}"\n'
        f"timeout = {MUTANT_TIMEOUT_SECONDS}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = [{excluded}]\n",
        encoding="utf-8",
    )
    return config


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _line_of(stage: Path, module_path: str, line: int) -> tuple[str, int]:
    """The line's code (blanks collapsed) and its occurrence: 1 for the module's first line with
    that text, 2 for the next... (what tells twin lines apart in the equivalents table)."""
    source = (stage / module_path).read_text(encoding="utf-8")
    lines = [" ".join(text.split()) for text in source.splitlines()]
    if not 0 < line <= len(lines):
        return "", 1
    code = lines[line - 1]
    return code, lines[: line - 1].count(code) + 1


def run_module(name: str, module: Module, equivalents: Equivalents, at: str | None = None) -> dict[str, Any]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"cutout-mutation-{name}-") as tmp:
        stage = Path(tmp)
        _stage(stage, at)
        config = _config(stage, module)
        env = {
            **os.environ,
            # the staged copy is imported, never the editable install of the work tree
            "PYTHONPATH": os.pathsep.join(str(stage / p) for p in ("layers/cutout", "tools", ".")),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        session = stage / "session.sqlite"

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(args, cwd=stage, env=env, capture_output=True, text=True, check=False)

        init = run(_tool("cosmic-ray"), "init", str(config), str(session))
        if init.returncode != 0:
            raise SystemExit(f"{name}: cosmic-ray init failed:\n{init.stderr}")
        run(_tool("cr-filter-operators"), str(session), str(config))
        baseline = run(_tool("cosmic-ray"), "baseline", str(config))
        if baseline.returncode != 0:
            failed = baseline.stdout + baseline.stderr
            raise SystemExit(f"{name}: the tests fail without any mutant:\n{failed}")
        run(_tool("cosmic-ray"), "exec", str(config), str(session))
        dump = run(_tool("cosmic-ray"), "dump", str(session))
        counts = {"killed": 0, "survived": 0, "incompetent": 0, "skipped": 0, "equivalent": 0}
        survivors: list[dict[str, Any]] = []
        equivalent: list[dict[str, Any]] = []
        for line in dump.stdout.splitlines():
            work_item, result = json.loads(line)
            if result is None or result.get("worker_outcome") == "skipped":
                counts["skipped"] += 1
                continue
            outcome = result.get("test_outcome")
            mutation = work_item["mutations"][0]
            line_no = int(mutation["start_pos"][0])
            code, occurrence = _line_of(stage, mutation["module_path"], line_no)
            diff = result.get("diff") or ""
            entry = {
                "operator": mutation["operator_name"],
                "line": line_no,
                "code": code,
                "occurrence": occurrence,
                "becomes": _becomes(diff),
                "diff": diff,
            }
            if outcome == "survived":
                if _is_equivalent(name, entry, equivalents):
                    counts["equivalent"] += 1
                    equivalent.append(entry)
                else:
                    counts["survived"] += 1
                    survivors.append(entry)
            elif outcome == "incompetent":
                counts["incompetent"] += 1
            else:
                counts["killed"] += 1
    judged = counts["killed"] + counts["survived"] + counts["equivalent"]
    return {
        "module": name,
        "path": str(PACKAGE_DIR / module.path),
        "tests": list(module.tests),
        **counts,
        "mutants": judged + counts["incompetent"],
        # equivalent mutants are not bugs: the score is over the mutants a test could catch
        "score": round(100.0 * counts["killed"] / (judged - counts["equivalent"]), 1)
        if judged > counts["equivalent"]
        else 100.0,
        "raw_score": round(100.0 * counts["killed"] / judged, 1) if judged else 100.0,
        "seconds": round(time.monotonic() - started, 1),
        "survivors": survivors,
        "equivalents": equivalent,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = ", ".join(MODULES)
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all). Known: {known}")
    parser.add_argument("--list", action="store_true", help="list the modules and their tests, then stop")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's diff")
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the last results again (survivors re-read against docs/mutation.md), run nothing",
    )
    parser.add_argument(
        "--at",
        metavar="COMMIT",
        help="mutate the code and run the tests of this commit (a 'before' figure), not the work tree",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, module in MODULES.items():
            print(f"{name:30} {PACKAGE_DIR / module.path}  ({module.rule})")
            print(f"{'':30} tests: {' '.join(module.tests)}")
        return 0
    unknown = [name for name in args.modules if name not in MODULES]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}; see --list")
    names = args.modules or list(MODULES)
    equivalents = recorded_equivalents()
    if args.report:
        saved = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        rows = [
            _reclassified(key, row, equivalents) for key, row in saved.items() if key.split("@")[0] in names
        ]
        _print_rows(rows, args.diffs)
        return 0
    rows = []
    for name in names:
        print(f"mutating {name} ...", flush=True)
        row = run_module(name, MODULES[name], equivalents, args.at)
        rows.append(row)
        # read again before writing: another run (a "before" one) may have added its modules
        previous = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
        previous[name if args.at is None else f"{name}@{args.at}"] = row
        RESULTS.write_text(json.dumps(previous, indent=2) + "\n", encoding="utf-8")
        _print_survivors(row, args.diffs)
    print()
    _print_table(rows)
    return 0


def _reclassified(key: str, row: dict[str, Any], equivalents: Equivalents) -> dict[str, Any]:
    """A saved row with its survivors read again against the equivalents recorded since."""
    name = key.split("@", maxsplit=1)[0]
    everything = [*row["survivors"], *row["equivalents"]]
    survivors = [s for s in everything if not _is_equivalent(name, s, equivalents)]
    equivalent = [s for s in everything if _is_equivalent(name, s, equivalents)]
    judged = row["killed"] + len(everything)
    score = 100.0 * row["killed"] / (judged - len(equivalent)) if judged > len(equivalent) else 100.0
    return {
        **row,
        "module": key,
        "survived": len(survivors),
        "equivalent": len(equivalent),
        "survivors": survivors,
        "equivalents": equivalent,
        "score": round(score, 1),
    }


def _print_survivors(row: dict[str, Any], diffs: bool) -> None:
    for survivor in row["survivors"]:
        print(f"  survived  line {survivor['line']:4}  {survivor['operator']:50}  {survivor['code']}")
        print(f"{'':18}becomes  {survivor.get('becomes') or _becomes(survivor.get('diff', ''))}")
        if diffs and survivor.get("diff"):
            print("    " + survivor["diff"].replace("\n", "\n    "))


def _print_rows(rows: list[dict[str, Any]], diffs: bool) -> None:
    for row in rows:
        print(f"{row['module']}:")
        _print_survivors(row, diffs)
    print()
    _print_table(rows)


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("module", "mutants", "killed", "surv.", "equiv.", "incomp.", "score", "time")
    print("{:30} {:>7} {:>6} {:>5} {:>6} {:>7} {:>6} {:>7}".format(*header))
    for row in rows:
        print(
            f"{row['module']:30} {row['mutants']:7} {row['killed']:6} {row['survived']:5} "
            f"{row['equivalent']:6} {row['incompetent']:7} {row['score']:5.1f}% {row['seconds']:6.0f}s"
        )


if __name__ == "__main__":
    sys.exit(main())
