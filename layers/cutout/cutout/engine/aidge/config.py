"""How to reach Aidge and how long to wait for it: one frozen value, validated when built.

Every limit is explicit: httpx timeouts per phase, an overall deadline per call that fits inside
a Lambda timeout, and caps on the result download. The secret is excluded from ``repr`` (and so
from ``str``) so a logged config never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import httpx

from cutout.engine.aidge.retry import AIDGE_CALL_RETRY, RESULT_FETCH_RETRY, RetryPolicy
from cutout.engine.aidge.url_safety import (
    IPNetwork,
    Origin,
    ResultUrlPolicy,
    literal_address,
    parse_address_allowlist,
)


class AidgeSettings(Protocol):
    """The part of the function's settings (``cutout.settings.Settings``) that says how to reach Aidge.

    A protocol, not the settings class itself: the engine does not import the configuration module
    (which imports the engine's port), so the two never form an import cycle.
    """

    @property
    def aidge_api_host(self) -> str: ...
    @property
    def aidge_api_scheme(self) -> str: ...
    @property
    def aidge_trial(self) -> bool: ...
    @property
    def result_url_allowlist(self) -> str: ...
    @property
    def result_url_policy(self) -> str: ...


GLOBAL_HOST = "api.aidc-ai.com"
CHINA_HOST = "cn-api.aidc-ai.com"
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class AidgeTimeouts:
    """Per-phase httpx timeouts in seconds (each attempt is also cut short by the deadline)."""

    connect: float = 3.0
    # The least wait for an answer (longer when the observed answer budget is longer), and the
    # longest between two chunks of a result download. Generous on purpose: a call whose answer
    # is abandoned may still be billed (``engine_answer_lost``), so waiting is cheaper than asking again.
    read: float = 60.0
    write: float = 30.0
    pool: float = 3.0

    def __post_init__(self) -> None:
        if min(self.connect, self.read, self.write, self.pool) <= 0:
            raise ValueError("every timeout must be positive")

    def bounded(self, remaining_seconds: float) -> httpx.Timeout:
        """These timeouts, none longer than ``remaining_seconds``."""
        cap = max(remaining_seconds, 0.001)
        return httpx.Timeout(
            connect=min(self.connect, cap),
            read=min(self.read, cap),
            write=min(self.write, cap),
            pool=min(self.pool, cap),
        )


def parse_allowlist(text: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (the ``RESULT_URL_ALLOWLIST`` format), normalised."""
    return tuple(str(network) for network in parse_address_allowlist(text.split(",")))


def _is_loopback_host(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    address = literal_address(host)
    return address is not None and address.is_loopback


@dataclass(frozen=True, slots=True)
class AidgeConfig:
    """Everything the Aidge client needs.

    ``host`` may carry a port (``127.0.0.1:8080`` for the emulator). ``scheme`` is ``https``;
    ``http`` is accepted only for a loopback host or an allowlisted origin (the local emulator).
    ``call_deadline_seconds`` bounds one call including its retries; ``min_call_seconds`` is the
    floor of the answer budget: a paid attempt starts only when the time left covers the budget
    (``answer_times.AnswerTimes``: the API's observed high-percentile answer time, never below
    this floor), since a call we cannot wait for would be billed and lost.
    ``result_url_policy`` decides http/https for result downloads (``ResultUrlPolicy``).
    ``result_url_allowlist`` lists the only non-public addresses (IPs or networks) a result may be
    fetched from: empty in production, the emulator's loopback address locally.
    """

    app_key: str
    app_secret: str = field(repr=False)
    host: str = GLOBAL_HOST
    scheme: str = "https"
    trial: bool = False
    timeouts: AidgeTimeouts = field(default_factory=AidgeTimeouts)
    call_deadline_seconds: float = 90.0
    min_call_seconds: float = 5.0
    result_max_bytes: int = 50 * MIB
    result_max_seconds: float = 20.0
    # Per concurrent download: a batch holds up to ten at once, so a small buffer keeps a 128 MB
    # function safe; bigger results go to a temporary file (bench/performance.py measures it).
    result_spool_bytes: int = 1 * MIB
    result_max_redirects: int = 3
    result_url_allowlist: tuple[str, ...] = ()
    result_url_policy: ResultUrlPolicy = ResultUrlPolicy.UPGRADE_THEN_HTTP
    call_retry: RetryPolicy = AIDGE_CALL_RETRY
    fetch_retry: RetryPolicy = RESULT_FETCH_RETRY

    def __post_init__(self) -> None:
        if not self.app_key.strip():
            raise ValueError("app_key is empty")
        if not self.app_secret.strip():
            raise ValueError("app_secret is empty")  # never echo the value
        if self.scheme not in ("https", "http"):
            raise ValueError(f"scheme must be https (or http for the local emulator), got {self.scheme!r}")
        if any(ch in self.host for ch in "/?#@ \t") or not self.host:
            raise ValueError(f"host must be a bare host[:port], got {self.host!r}")
        endpoint = Origin.parse(f"{self.scheme}://{self.host}")
        allowlist = tuple(str(network) for network in parse_address_allowlist(self.result_url_allowlist))
        object.__setattr__(self, "result_url_allowlist", allowlist)
        object.__setattr__(self, "result_url_policy", ResultUrlPolicy(self.result_url_policy))
        endpoint_address = literal_address(endpoint.host)
        allowlisted_endpoint = endpoint_address is not None and any(
            endpoint_address.version == network.version and endpoint_address in network
            for network in self.allowed_networks
        )
        if self.scheme == "http" and not (_is_loopback_host(endpoint.host) or allowlisted_endpoint):
            raise ValueError(
                "http is allowed only for the local emulator (a loopback or allowlisted address)"
            )
        if self.call_deadline_seconds <= 0 or self.result_max_seconds <= 0 or self.min_call_seconds < 0:
            raise ValueError("deadlines must be positive")
        if self.result_max_bytes <= 0 or self.result_spool_bytes <= 0 or self.result_max_redirects < 0:
            raise ValueError("result caps must be positive")

    @property
    def endpoint(self) -> str:
        """The background-removal URL, without the signed query."""
        return f"{self.scheme}://{self.host}/rest/ai/image/cut/out"

    @property
    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        return parse_address_allowlist(self.result_url_allowlist)

    @classmethod
    def from_settings(
        cls, settings: AidgeSettings, *, app_key: str, app_secret: str, **overrides: object
    ) -> AidgeConfig:
        """A config from the function's ``Settings`` and the key pair read from Secrets Manager."""
        return cls(
            app_key=app_key,
            app_secret=app_secret,
            host=settings.aidge_api_host,
            scheme=settings.aidge_api_scheme,
            trial=settings.aidge_trial,
            result_url_allowlist=parse_allowlist(settings.result_url_allowlist),
            result_url_policy=ResultUrlPolicy(settings.result_url_policy),
            **overrides,  # type: ignore[arg-type]
        )
