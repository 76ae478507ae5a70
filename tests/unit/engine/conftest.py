"""Fixtures for the Aidge adapter tests (helpers live in ``aidge_doubles``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cutout.engine.aidge import AidgeClient, AidgeConfig
from cutout.engine.aidge.answer_times import AnswerTimes
from cutout.engine.port import Cutout
from tests.unit.engine.aidge_doubles import (
    APP_KEY,
    APP_SECRET,
    PUBLIC_IP,
    RESULT_HOST,
    FakeTime,
    Handler,
    fake_resolver,
)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Iterator[Callable[..., AidgeClient]]:
    """Build an ``AidgeClient`` over a MockTransport handler, with fake time and fake DNS."""
    clients: list[AidgeClient] = []

    def build(
        handler: Handler,
        *,
        resolver_table: dict[str, list[str]] | None = None,
        random_value: float = 1.0,
        answer_times: AnswerTimes | None = None,
        **config: Any,
    ) -> AidgeClient:
        client = AidgeClient(
            AidgeConfig(app_key=APP_KEY, app_secret=APP_SECRET, **config),
            transport=httpx.MockTransport(handler),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            random=lambda: random_value,
            resolver=fake_resolver({RESULT_HOST: [PUBLIC_IP]} if resolver_table is None else resolver_table),
            answer_times=answer_times or AnswerTimes(),  # each test its own: no figures leak between them
        )
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def closing() -> Iterator[Callable[[Cutout], Cutout]]:
    """Registers cutouts whose temporary-file bodies are closed after the test."""
    cutouts: list[Cutout] = []

    def register(cutout: Cutout) -> Cutout:
        cutouts.append(cutout)
        return cutout

    yield register
    for cutout in cutouts:
        cutout.body.close()
