"""Fixtures: moto as an HTTP server, the Aidge emulator, and a fresh world per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from cutout_tools.emulator import AidgeEmulator
from tests.functional.aidge_testkit import FakeCutoutEngine
from tests.functional.pipeline.world import KEY_NAME, KEY_SECRET, World
from tests.handler import load_lambda_handler


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def pipeline_emulator() -> Iterator[AidgeEmulator]:
    with AidgeEmulator(
        key_name=KEY_NAME, key_secret=KEY_SECRET, engine=FakeCutoutEngine(), seed=7
    ) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def lambda_handler() -> Callable[..., dict[str, Any]]:
    return load_lambda_handler()


@pytest.fixture
def aws_environment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_endpoint


@pytest.fixture
def make_world(
    aws_environment: str, pipeline_emulator: AidgeEmulator, lambda_handler: Callable[..., dict[str, Any]]
) -> Iterator[Callable[..., World]]:
    def _make(**overrides: str) -> World:
        return World(pipeline_emulator, lambda_handler, overrides=overrides)

    yield _make
    pipeline_emulator.configure(latency_ms=0, faults=None)
    from cutout_tools.emulator import FaultPlan

    pipeline_emulator.configure(faults=FaultPlan())


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
