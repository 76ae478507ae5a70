"""What the local stack and the tests may change about the Aidge client: nothing that is a rule.

Production passes nothing. Locally, the emulator serves results on an OSS-shaped host name that
must resolve to its loopback address (``resolver``) over https with a test certificate
(``verify``: the default trust store plus the emulator's test CA). The URL policy, the address
rules and the allowlist stay exactly as configured: a resolver answering a loopback address is
still refused unless that address is allowlisted.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from cutout.engine.aidge.url_safety import Resolver


@dataclass(frozen=True, slots=True)
class AidgeSeams:
    resolver: Resolver | None = None
    verify: ssl.SSLContext | None = None

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``AidgeClient`` for the seams that are set."""
        kwargs: dict[str, Any] = {}
        if self.resolver is not None:
            kwargs["resolver"] = self.resolver
        if self.verify is not None:
            kwargs["verify"] = self.verify
        return kwargs
