"""Fixtures of the reliability tests: the pipeline world of the functional tests (moto over HTTP,
the Aidge emulator, the real handler in-process), reused rather than rebuilt."""

from __future__ import annotations

from tests.functional.conftest import (  # noqa: F401  (fixtures, found by name)
    aws_environment,
    lambda_handler,
    moto_endpoint,
)
from tests.functional.pipeline.conftest import (  # noqa: F401  (fixtures, found by name)
    make_world,
    pipeline_emulator,
    world,
)
