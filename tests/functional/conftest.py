"""Fixtures of the functional tests: the Aidge emulator (with a fast fake engine) and a file server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cutout_tools.emulator import AidgeEmulator
from cutout_tools.emulator.oss import RESULT_HOST
from tests.functional.aidge_testkit import KEY_NAME, KEY_SECRET, FakeCutoutEngine, StaticFiles, signed_params
from tests.functional.local_aws import moto_server, point_boto3_at
from tests.handler import load_lambda_handler


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto on loopback, shared by the tests of one worker (each test names its own resources)."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_environment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    point_boto3_at(moto_endpoint, monkeypatch)
    return moto_endpoint


@pytest.fixture(scope="session")
def lambda_handler() -> Callable[..., dict[str, Any]]:
    """The deployed handler, loaded from functions/process_upload/app.py as Lambda does."""
    return load_lambda_handler()


@pytest.fixture
def fake_cutout_engine() -> FakeCutoutEngine:
    return FakeCutoutEngine()


@pytest.fixture
def aidge_emulator(fake_cutout_engine: FakeCutoutEngine) -> Iterator[AidgeEmulator]:
    """A running emulator on an ephemeral loopback port, backed by the fake engine, no faults."""
    with AidgeEmulator(
        key_name=KEY_NAME, key_secret=KEY_SECRET, engine=fake_cutout_engine, seed=1
    ) as emulator:
        yield emulator


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """A plain client; a request to the emulator's OSS-shaped result host goes to loopback."""
    with httpx.Client(timeout=30, trust_env=False, transport=ResultHostOnLoopback()) as client:
        yield client


class ResultHostOnLoopback(httpx.HTTPTransport):
    """Sends requests for the emulator's result host to 127.0.0.1, the Host header unchanged (the
    tests' own name resolution; the client under test uses its resolver seam instead)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == RESULT_HOST:
            request.url = request.url.copy_with(host="127.0.0.1")
        return super().handle_request(request)


@pytest.fixture
def call_cutout(aidge_emulator: AidgeEmulator, http: httpx.Client) -> Callable[..., httpx.Response]:
    """POST a JSON body to the emulator's API, signed by the independent signer unless ``params``."""

    def _call(body: dict[str, Any], params: dict[str, str] | None = None) -> httpx.Response:
        return http.post(aidge_emulator.api_url, params=params or signed_params(), json=body)

    return _call


@pytest.fixture
def static_files() -> Iterator[StaticFiles]:
    with StaticFiles().running() as files:
        yield files
