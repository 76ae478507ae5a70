"""The runtime dependencies (what ships in the Lambda layer) are locked, and pip-audit knows of no
vulnerability in them (``make audit`` runs the same command; ignores, with reasons, live there)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = REPO_ROOT / "layers/cutout/requirements.txt"
PIP_AUDIT = REPO_ROOT / ".tools/pip-audit/bin/pip-audit"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+(\[[A-Za-z0-9_,.-]+\])?==[0-9][0-9A-Za-z.+-]*$")


def test_runtime_requirements_are_pinned_exactly() -> None:
    # Given the layer's requirements
    lines = [line.split("#", 1)[0].strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    requirements = [line for line in lines if line]
    # When each is read
    loose = [line for line in requirements if not PINNED.match(line)]
    # Then every one is pinned to one version (what an audit of "the locked dependencies" needs)
    assert requirements
    assert loose == []


@pytest.mark.slow
def test_pip_audit_knows_no_vulnerability_in_the_runtime_dependencies() -> None:
    # Given pip-audit, installed by `make tools`
    if not PIP_AUDIT.exists():
        pytest.skip(f"{PIP_AUDIT} is not installed: run `make tools`")
    # When it audits the locked runtime dependencies (strict: an unknown dependency fails)
    completed = subprocess.run(
        [str(PIP_AUDIT), "--strict", "--progress-spinner", "off", "--requirement", str(REQUIREMENTS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0 and "could not be audited" in output:
        pytest.skip(
            "pip-audit has no vulnerability data here (PyPI's per-version JSON API does not answer); "
            "`make audit` fails for the same reason: " + output.strip().splitlines()[-1][:300]
        )
    # Then it finds nothing
    assert completed.returncode == 0, output[-3000:]
    assert "No known vulnerabilities found" in output
