"""The checks ``make build`` runs before ``sam build``: each prints one line and exits 1 on failure.

``python -m cutout_tools.build_checks profiles [--function-dir DIR] [--setting FILE]`` validates the
profiles file the function will load (the template's ``ProfilesFile``, resolved against the
function's code folder as ``LAMBDA_TASK_ROOT`` is on Lambda) exactly as it does at start.
A wrong file is named with its profile, variant and field, on one line, without a traceback.

``python -m cutout_tools.build_checks bytecode [--python PATH]`` finds the runtime's CPython (3.13)
to compile the layer's bytecode with (PATH, else ``python3.13`` on the PATH) and prints its path;
without one it stops with one sentence saying how to get one. The layer's Makefile compiles with it.
A layer without bytecode compiles every module at every cold start (3.3x the bare runtime's init
instead of 1.8x, docs/benchmarks.md): ``--allow-missing`` (``make build ALLOW_NO_BYTECODE=1``)
builds one anyway, with a warning.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

RUNTIME_PYTHON = (3, 13)
RUNTIME_NAME = "python3.13"
DEFAULT_FUNCTION_DIR = Path("functions/process_upload")
HOW_TO_GET_PYTHON = (
    "make build needs CPython 3.13, the Lambda runtime's Python, to compile the layer's bytecode: "
    "install it (pyenv install 3.13, brew install python@3.13, or python.org) and put python3.13 on "
    "the PATH or run make build PYC_PYTHON=/path/to/python3.13 "
    "(ALLOW_NO_BYTECODE=1 builds without, and every cold start then compiles the layer)."
)


def check_profiles(function_dir: Path, setting: str) -> str | None:
    """``None`` when the profiles file loads as the function loads it; else one line saying why."""
    from cutout.profiles import ProfilesError, configured_profiles

    try:
        configured_profiles(setting, {"LAMBDA_TASK_ROOT": str(function_dir)})
    except ProfilesError as error:
        lines = [line for line in str(error).splitlines() if line.strip()]
        more = len(lines) - 1
        if more <= 0:
            return lines[0] if lines else str(error)
        path = Path(setting) if Path(setting).is_absolute() else function_dir / setting
        return f"{lines[0]} (and {more} more: cutout profiles check {path})"
    return None


def python_version(executable: str) -> tuple[int, int] | None:
    """The ``(major, minor)`` of the Python at ``executable``; ``None`` when it does not run."""
    try:
        done = subprocess.run(  # noqa: S603 - the user's own interpreter, asked its version
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2 or not all(part.isdigit() for part in parts):
        return None
    return int(parts[0]), int(parts[1])


def find_runtime_python(given: str | None, path: str | None = None) -> tuple[str | None, str]:
    """The runtime's Python (its path) and ``""``, or ``None`` and one sentence saying why not."""
    candidate = given or shutil.which(RUNTIME_NAME, path=path)
    if not candidate:
        return None, HOW_TO_GET_PYTHON
    version = python_version(candidate)
    if version != RUNTIME_PYTHON:
        found = "does not run" if version is None else f"is Python {version[0]}.{version[1]}"
        return None, f"{candidate} {found}: " + HOW_TO_GET_PYTHON
    return candidate, ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cutout_tools.build_checks", description=__doc__)
    checks = parser.add_subparsers(dest="check", required=True)
    profiles = checks.add_parser("profiles", help="the profiles file the function will load")
    profiles.add_argument("--function-dir", type=Path, default=DEFAULT_FUNCTION_DIR)
    profiles.add_argument("--setting", default="profiles.toml", help="the template's ProfilesFile")
    bytecode = checks.add_parser("bytecode", help="the runtime's Python, to compile the layer's bytecode")
    bytecode.add_argument("--python", default=None, help="a CPython 3.13 (default: python3.13 on the PATH)")
    bytecode.add_argument("--allow-missing", action="store_true", help="warn instead of failing")
    args = parser.parse_args(argv)
    if args.check == "profiles":
        problem = check_profiles(args.function_dir, args.setting)
        if problem is not None:
            print(f"make build: {problem}", file=sys.stderr)
            return 1
        shown = args.setting or "(none: the single cut-out mode)"
        print(f"profiles: {shown} is valid")
        return 0
    executable, why = find_runtime_python(args.python or os.environ.get("PYC_PYTHON") or None)
    if executable is None:
        if args.allow_missing:
            print(f"warning: the layer is built without bytecode (ALLOW_NO_BYTECODE): {why}", file=sys.stderr)
            return 0
        print(why, file=sys.stderr)
        return 1
    print(executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
