"""Template security: checkov (CloudFormation and secrets frameworks) passes strictly, every
suppression carries a written reason, and what the scanners miss is asserted here.

Already asserted elsewhere, not repeated: cfn-lint with the serverless rules and ``sam validate``
(``tests/functional/template/test_template_lint.py``); Block Public Access, TLS-only bucket and queue
policies, the 6x visibility timeout, no wildcard actions in the function's statements and the
secret's placeholders (``tests/unit/template/test_template_properties.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cutout_tools.template import Template, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKOV = REPO_ROOT / ".tools/checkov/bin/checkov"
# The command `make security` runs: strict (no --soft-fail), both frameworks.
CHECKOV_COMMAND = [
    str(CHECKOV),
    "--quiet",
    "--compact",
    "--framework",
    "cloudformation",
    "secrets",
    "--file",
    "template.yaml",
]
MIN_REASON_CHARS = 60
# Shapes of real credentials: AWS access key ids, PEM keys, long random tokens.
SECRET_SHAPES = [
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\b[0-9a-zA-Z/+]{40}\b"),
    re.compile(r"\b[0-9a-f]{32,}\b", re.IGNORECASE),
]
SECRET_WORDS = re.compile(r"secret|password|token|credential|api_?key|app_?key", re.IGNORECASE)


@pytest.fixture(scope="module")
def template() -> Template:
    return load_template()


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in the template with where it is, intrinsic functions included."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


@pytest.mark.slow
def test_checkov_finds_nothing_unexplained() -> None:
    # Given checkov, installed by `make tools`
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} is not installed: run `make tools`")
    environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    # When it scans template.yaml strictly with its CloudFormation and secrets checks
    completed = subprocess.run(
        CHECKOV_COMMAND,
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    # Then it fails nothing (every finding is fixed, or suppressed in the template with a reason)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert "Failed checks: 0" in completed.stdout


def test_every_checkov_suppression_says_why(template: Template) -> None:
    # Given every `Metadata: checkov: skip:` entry of the template
    skips = [
        (logical_id, skip)
        for logical_id, declared in template["Resources"].items()
        for skip in declared.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    # When their reasons are read
    unexplained = [
        (logical_id, skip.get("id"))
        for logical_id, skip in skips
        if len(str(skip.get("comment", "")).strip()) < MIN_REASON_CHARS
        or not str(skip.get("id", "")).startswith("CKV")
    ]
    # Then there are some, each naming a check and giving a written reason
    assert skips
    assert unexplained == []


def test_the_template_holds_no_literal_secret(template: Template) -> None:
    # Given every string in the template
    strings = list(_strings(template))
    # When they are matched against the shapes of real credentials
    shaped = [(path, value) for path, value in strings for shape in SECRET_SHAPES if shape.search(value)]
    # ... and every literal under a secret-sounding name is collected
    literal_secrets = [
        (path, value)
        for path, value in strings
        if SECRET_WORDS.search(path.rsplit(".", 1)[-1])
        and "Description" not in path
        and "REPLACE_ME" not in value
    ]
    # Then there are none: the only secret is the placeholder filled in after deploy
    assert shaped == []
    assert literal_secrets == []


def test_no_policy_in_the_template_allows_a_wildcard_action_or_anyone(template: Template) -> None:
    # Given every IAM statement the template writes (bucket, queue and function policies)
    statements: list[tuple[str, dict[str, Any]]] = []
    for logical_id, declared in template["Resources"].items():
        properties = declared.get("Properties", {})
        documents = [properties["PolicyDocument"]] if "PolicyDocument" in properties else []
        documents += [policy for policy in properties.get("Policies", []) if isinstance(policy, dict)]
        for document in documents:
            statements += [
                (logical_id, statement)
                for written in document.get("Statement", [])
                for statement in _branches(written)
            ]
    # When the statements that allow are checked
    allows = [
        (logical_id, statement) for logical_id, statement in statements if statement["Effect"] == "Allow"
    ]
    wildcard = [
        (logical_id, statement.get("Sid"))
        for logical_id, statement in allows
        if any("*" in action for action in _as_list(statement.get("Action")))
        or statement.get("Principal") in ("*", {"AWS": "*"})
        or statement.get("Resource") == "*"
    ]
    # Then none allows a wildcard action, any principal or every resource (Deny statements may use s3:*)
    assert len(allows) >= 7
    assert wildcard == []


def _branches(statement: Any) -> list[dict[str, Any]]:
    """A statement, or both statements of an ``!If`` (issue 15's options), ``AWS::NoValue`` dropped."""
    if isinstance(statement, dict) and set(statement) == {"Fn::If"}:
        _, when_true, when_false = statement["Fn::If"]
        return _branches(when_true) + _branches(when_false)
    if statement == {"Ref": "AWS::NoValue"}:
        return []
    return [statement]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
