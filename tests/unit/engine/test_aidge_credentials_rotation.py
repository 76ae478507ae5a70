"""Rotated credentials: the old Aidge client is closed only after its calls in flight end."""

from __future__ import annotations

import threading
from typing import Any

from cutout.engine.aidge.config import AidgeConfig
from cutout.engine.aidge.credentials import AidgeClientFromSecret
from cutout.engine.port import Background, CutoutOptions, CutoutReceipt, ImageSource, ImageUrl
from cutout.settings import Settings


def _settings() -> Settings:
    return Settings.from_env(
        {
            "OUTPUT_BUCKET": "out",
            "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            "IDEMPOTENCY_TABLE": "idempotency",
            "AIDGE_SECRET_NAME": "cutout/aidge",
        }
    )


class Secrets:
    """A secrets provider whose value the test changes (rotation)."""

    def __init__(self) -> None:
        self.value = {"app_key": "key-1", "app_secret": "secret-1"}

    def get(self, name: str, **_: Any) -> dict[str, str]:
        return dict(self.value)


class SlowClient:
    """An AidgeClient double: ``submit`` waits for ``release``; records whether it was closed mid-call."""

    engine_name = "aidge"

    def __init__(self, config: AidgeConfig) -> None:
        self.app_key = config.app_key
        self.started = threading.Event()
        self.release = threading.Event()
        self.closed = False
        self.closed_during_a_call = False
        self.calls_in_flight = 0

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        self.calls_in_flight += 1
        self.started.set()
        self.release.wait(10)
        self.calls_in_flight -= 1
        return CutoutReceipt(
            engine="aidge", result_url="https://r.example/1.png", width=1, height=1, score=None,
            usage=1, request_id=self.app_key, background=Background.TRANSPARENT,
        )  # fmt: skip

    def close(self) -> None:
        self.closed_during_a_call = self.calls_in_flight > 0
        self.closed = True


def test_a_credential_change_retires_the_old_client_only_after_its_call_ends() -> None:
    # Given a call under way on the client for the first credentials
    secrets, built = Secrets(), []

    def build(config: AidgeConfig) -> SlowClient:
        built.append(SlowClient(config))
        return built[-1]

    factory = AidgeClientFromSecret(_settings(), secrets, client_factory=build)  # type: ignore[arg-type]
    receipts: list[CutoutReceipt] = []
    source, options = ImageUrl("https://in.example/a.jpg"), CutoutOptions(background=Background.TRANSPARENT)
    held = factory()
    call = threading.Thread(target=lambda: receipts.append(held.submit(source, options)))
    call.start()
    assert built[0].started.wait(10)

    # When the credentials rotate and another thread asks for the client
    secrets.value = {"app_key": "key-2", "app_secret": "secret-2"}
    current = factory()

    # Then a new client serves the new credentials, the old one stays open until its call ends...
    assert [client.app_key for client in built] == ["key-1", "key-2"]
    assert current.client is built[1]
    assert not built[0].closed
    built[0].release.set()
    call.join(10)
    # ...whose paid answer arrives, and then it is closed, never during a call
    assert [receipt.request_id for receipt in receipts] == ["key-1"]
    assert built[0].closed
    assert not built[0].closed_during_a_call
    # and a call made later through the retired handle goes to the current client
    built[1].release.set()
    assert held.submit(source, options).request_id == "key-2"
    assert not built[1].closed


def test_an_idle_client_is_closed_at_once_when_the_credentials_change() -> None:
    # Given a client with no call in flight
    secrets, built = Secrets(), []

    def build(config: AidgeConfig) -> SlowClient:
        built.append(SlowClient(config))
        return built[-1]

    factory = AidgeClientFromSecret(_settings(), secrets, client_factory=build)  # type: ignore[arg-type]
    factory()
    # When the credentials change
    secrets.value = {"app_key": "key-2", "app_secret": "secret-2"}
    factory()
    # Then the old client is closed immediately, and the new one is open
    assert [client.closed for client in built] == [True, False]
