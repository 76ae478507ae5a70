"""Aidge credentials from Secrets Manager, rotated without a deploy.

The key pair is read through Powertools Parameters (cached for five minutes, so a rotated secret
is picked up without a deploy); the Aidge client, with its one ``httpx.Client``, is rebuilt only
when the credentials change, and the old one is closed only after the calls in flight on it have ended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from aws_lambda_powertools.utilities import parameters

from cutout.engine.aidge.client import AidgeClient
from cutout.engine.aidge.config import AidgeConfig, AidgeSettings
from cutout.engine.aidge.seams import AidgeSeams
from cutout.engine.errors import PermanentEngineError
from cutout.engine.port import Cutout, CutoutOptions, CutoutReceipt, ImageSource, ResumableBackgroundRemover

SECRET_MAX_AGE_SECONDS = 300


class AidgeSecretSettings(AidgeSettings, Protocol):
    """The settings the client factory reads: the endpoint's and the secret's name."""

    @property
    def aidge_secret_name(self) -> str: ...


class _CountedAidgeClient:
    """One ``AidgeClient`` and the calls in flight on it: closed once retired *and* idle.

    A thread may hold this object while the credentials change: once retired, a new call is handed
    to the current client instead (``current``), and the calls already under way end on the old
    one (their paid answers are not lost), which is closed when the last of them returns.
    """

    def __init__(self, client: AidgeClient, current: Callable[[], ResumableBackgroundRemover]) -> None:
        self.client = client
        self._current = current
        self._lock = threading.Lock()
        self._in_flight = 0
        self._retired = False
        self._closed = False

    @property
    def engine_name(self) -> str:
        return self.client.engine_name

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def retire(self) -> None:
        with self._lock:
            self._retired = True
            close = self._in_flight == 0 and not self._closed
            self._closed = self._closed or close
        if close:
            self.client.close()

    @contextmanager
    def _call(self) -> Iterator[ResumableBackgroundRemover | None]:
        """This client for one call (counted), or None once retired: use the current one then."""
        with self._lock:
            usable = not self._retired
            if usable:
                self._in_flight += 1
        if not usable:
            yield None
            return
        try:
            yield self.client
        finally:
            with self._lock:
                self._in_flight -= 1
                close = self._retired and self._in_flight == 0 and not self._closed
                self._closed = self._closed or close
            if close:
                self.client.close()

    def submit(
        self, source: ImageSource, options: CutoutOptions, *, deadline: float | None = None
    ) -> CutoutReceipt:
        with self._call() as client:
            return (client or self._current()).submit(source, options, deadline=deadline)

    def fetch(self, receipt: CutoutReceipt, *, deadline: float | None = None) -> Cutout:
        with self._call() as client:
            return (client or self._current()).fetch(receipt, deadline=deadline)

    def remove_background(self, source: ImageSource, options: CutoutOptions) -> Cutout:
        with self._call() as client:
            return (client or self._current()).remove_background(source, options)


class AidgeClientFromSecret:
    """A callable returning the Aidge client for the current credentials (the engine port's factory).

    When the credentials change, the old client is retired, not closed under the calls still using
    it: it closes its ``httpx.Client`` when the last of them ends (reference counting).
    """

    def __init__(
        self,
        settings: AidgeSecretSettings,
        secrets: parameters.SecretsProvider | None = None,
        client_factory: Callable[[AidgeConfig], AidgeClient] | None = None,
        seams: AidgeSeams | None = None,
    ) -> None:
        self._settings = settings
        self._seams = seams or AidgeSeams()
        # Pass a provider on the pipeline's boto3 session: Powertools' default one opens a session
        # of its own, whose first use re-reads botocore's endpoint data (tens of MB, ~0.2 s).
        self._secrets = secrets
        self._client_factory = client_factory
        self._lock = threading.Lock()
        self._client: _CountedAidgeClient | None = None
        self._credentials: tuple[str, str] | None = None

    def _build_client(self, config: AidgeConfig) -> AidgeClient:
        if self._client_factory is not None:
            return self._client_factory(config)
        return AidgeClient(config, **self._seams.client_kwargs())

    def __call__(self) -> _CountedAidgeClient:
        credentials = self._read_credentials()
        retired: _CountedAidgeClient | None = None
        with self._lock:
            if self._client is None or credentials != self._credentials:
                retired = self._client
                app_key, app_secret = credentials
                config = AidgeConfig.from_settings(self._settings, app_key=app_key, app_secret=app_secret)
                self._client = _CountedAidgeClient(self._build_client(config), self)
                self._credentials = credentials
            client = self._client
        if retired is not None:
            retired.retire()  # closes now if idle, else when its last call ends
        return client

    def _read_credentials(self) -> tuple[str, str]:
        name, age = self._settings.aidge_secret_name, SECRET_MAX_AGE_SECONDS
        secret: Any = (
            parameters.get_secret(name, transform="json", max_age=age)
            if self._secrets is None
            else self._secrets.get(name, transform="json", max_age=age)
        )
        app_key = str(secret.get("app_key", "")) if isinstance(secret, dict) else ""
        app_secret = str(secret.get("app_secret", "")) if isinstance(secret, dict) else ""
        if not app_key or not app_secret or "REPLACE_ME" in (app_key, app_secret):
            raise PermanentEngineError(
                'The Aidge credentials are not set: put {"app_key": ..., "app_secret": ...} in the '
                "secret named by AIDGE_SECRET_NAME (README, 'Deploy in five steps', step 4).",
                code="aidge_credentials_missing",
            )
        return app_key, app_secret
