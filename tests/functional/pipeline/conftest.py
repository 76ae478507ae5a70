"""Fixtures: the Aidge emulator and a fresh world per test (moto and the handler come from
tests/functional/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cutout_tools.emulator import AidgeEmulator, FaultPlan
from tests.functional.aidge_testkit import FakeCutoutEngine
from tests.functional.pipeline.world import KEY_NAME, KEY_SECRET, World


@pytest.fixture(scope="session")
def pipeline_emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(
        key_name=KEY_NAME, key_secret=KEY_SECRET, engine=FakeCutoutEngine(), seed=7
    ) as emulator:
        yield emulator


@pytest.fixture
def make_world(
    aws_environment: str, pipeline_emulator: AidgeEmulator, lambda_handler: Callable[..., dict[str, Any]]
) -> Iterator[Callable[..., World]]:
    def _make(**overrides: str) -> World:
        return World(pipeline_emulator, lambda_handler, overrides=overrides)

    yield _make
    pipeline_emulator.configure(latency_ms=0, faults=FaultPlan())  # the next test starts clean


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
