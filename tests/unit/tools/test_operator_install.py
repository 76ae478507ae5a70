"""The operator's install (``pip install 'cutout[ops]'``): the operations commands run without the
developer install's modules (moto, SciPy, numpy, the emulator's cryptography), and say so in one line
when a command needs them. The install is simulated by refusing those imports in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from cutout_tools.cli import DESCRIPTION, DEV_ONLY_MODULES, build_parser

REPO = Path(__file__).resolve().parents[3]
OPERATIONS = ["dlq", "backfill", "review", "budget", "resume", "rerender", "events", "teardown"]
BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
from cutout_tools.cli import main
for argv in {argvs!r}:
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    print(f"EXIT {{code}}", flush=True)
    if code:
        sys.exit(code)
"""


def run_without_dev_modules(*argvs: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``cutout`` with each of ``argvs`` in turn, in one interpreter; stop at a non-zero exit."""
    code = BLOCKER.format(blocked=sorted(DEV_ONLY_MODULES), argvs=[list(argv) for argv in argvs])
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )


def pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return dict(line.split("==", 1) for line in lines if "==" in line)


def test_the_help_names_the_operations_and_the_development_commands() -> None:
    # Given the top-level help
    # Then every registered command is listed in it, under what it is
    parser = build_parser()
    registered = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    listed = {line.split()[0] for line in DESCRIPTION.splitlines() if line.startswith("  ")}
    assert listed == registered
    operations, development = DESCRIPTION.split("local development", 1)
    assert all(f"  {name} " in operations for name in OPERATIONS)
    assert "  local " in development
    assert "  emulator " in development
    assert "Developer tools" not in DESCRIPTION


def test_the_operations_commands_run_without_the_developer_install() -> None:
    # Given an interpreter where the developer install's modules cannot be imported
    # When the help of cutout and of each operations command is asked for
    helps = [["--help"], *([name, "--help"] for name in OPERATIONS), ["profiles", "check", "--help"]]
    done = run_without_dev_modules(*helps)
    # Then each is printed
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("EXIT 0") == len(helps)
    for name in OPERATIONS:
        assert f"usage: cutout {name}" in done.stdout


def test_a_development_command_says_it_needs_the_developer_install() -> None:
    # Given the operator's install
    # When `cutout local up` is run
    done = run_without_dev_modules(["local", "up"])
    # Then one line says what to install, without a traceback
    assert done.returncode == 1
    assert done.stdout.strip() == "EXIT 1"
    assert done.stderr.strip().splitlines() == [
        "cutout local needs the developer install (it imports cryptography): "
        "pip install 'cutout[dev]', or make venv in a clone"
    ]


def test_the_ops_extra_pins_the_sdk_as_the_dev_install_does() -> None:
    # Given the extras of pyproject.toml
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["tool"]["setuptools"]["dynamic"]["optional-dependencies"]
    # Then [ops] is requirements-ops.txt, whose pins are the dev install's
    assert extras["ops"] == {"file": ["requirements-ops.txt"]}
    ops, dev = pins(REPO / "requirements-ops.txt"), pins(REPO / "requirements-dev.txt")
    assert set(ops) == {"boto3", "botocore"}
    assert all(dev[name] == version for name, version in ops.items())
