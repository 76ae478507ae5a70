"""cfn-lint (with the serverless rules) and `sam validate --lint` accept template.yaml.

The tools live in their own venvs under .tools/ (`make tools`); without them the tests skip.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
TOOLS = REPO_ROOT / ".tools"
LINTERS = {
    "cfn-lint": [
        str(TOOLS / "cfn-lint/bin/cfn-lint"),
        "--regions",
        "us-east-1",
        "--append-rules",
        "cfn_lint_serverless.rules",
        "--",
        "template.yaml",
    ],
    "sam-validate": [str(TOOLS / "sam/bin/sam"), "validate", "--lint", "--template-file", "template.yaml"],
}


@pytest.mark.slow
@pytest.mark.parametrize("linter", sorted(LINTERS))
def test_template_passes_the_linter(linter: str) -> None:
    # Given the linter, installed by `make tools`
    command = LINTERS[linter]
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed: run `make tools`")
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    # When it checks template.yaml
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=240, check=False
    )
    # Then it finds nothing
    assert completed.returncode == 0, completed.stdout + completed.stderr
