"""Two rules of the object store that no S3 answer shows.

A presigned URL is only used for a key a third party's HTTP client fetches unchanged (no empty,
``.`` or ``..`` path segment: clients normalise those away and would fetch another key), held from
both sides. And the library imports without the development-only type stubs (``mypy-boto3-*`` are
in requirements-dev.txt, never in the Lambda layer): a stub imported at run time would fail every
invocation.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cutout.storage.objects import survives_url_normalisation


@pytest.mark.parametrize(
    ("key", "survives"),
    [
        ("shoes/red.jpg", True),
        ("red.jpg", True),
        ("a..b.jpg", True),
        (".hidden/red.jpg", True),
        ("a/.../b.jpg", True),
        ("a/../b.jpg", False),
        ("a/./b.jpg", False),
        ("./red.jpg", False),
        ("../red.jpg", False),
        ("a//b.jpg", False),
        ("/red.jpg", False),
        ("shoes/", False),
        ("..", False),
    ],
)
def test_only_keys_without_dot_or_empty_segments_survive_url_normalisation(key: str, survives: bool) -> None:
    # Given an object key, When asked whether a URL path naming it reaches S3 unchanged,
    # Then only keys without empty, "." or ".." segments do
    assert survives_url_normalisation(key) is survives


STUBS = (
    "mypy_boto3_s3",
    "mypy_boto3_sqs",
    "mypy_boto3_cloudformation",
    "mypy_boto3_dynamodb",
    "mypy_boto3_lambda",
)


def test_the_object_store_imports_without_the_development_type_stubs() -> None:
    # Given a Python where the type-stub packages cannot be imported (as in the Lambda layer)
    code = (
        "import sys\n"
        f"for name in {STUBS!r}:\n"
        "    sys.modules[name] = None\n"
        "import cutout.storage.objects, cutout.storage\n"
        "print('imported')\n"
    )
    # When the object store is imported
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=dict(os.environ)
    )
    # Then it imports: the stubs are read by the type checker only
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"
