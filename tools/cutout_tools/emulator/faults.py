"""Fault injection: which failure, if any, the emulator plays for one API call.

A plan is a list of ``KIND:PROBABILITY`` entries; one uniform draw per API call picks at most one
fault (the probabilities are stacked, so they must sum to at most 1). The draw comes from a seeded
RNG owned by the emulator, so a run with the same seed and the same call order replays the same
faults — which is what makes retry tests and demos reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Fault(StrEnum):
    """A failure the emulator can play. The numeric ones are the API's documented resCodes."""

    SYSTEM_ERROR = "500"
    RATE_LIMIT = "501"
    INVALID_INPUT = "700"
    MODEL_FAILED = "801"
    SENSITIVE_CONTENT = "1000"
    CONTENT_CONTROL_FAILED = "1001"
    CONTENT_RISK_FILTER_FAILED = "1002"
    TIMEOUT = "timeout"  # hold the request without answering
    MALFORMED = "malformed"  # HTTP 200 with a body that is not JSON
    RESULT_404 = "result404"  # billed success whose result URL answers 404 to its first GET

    @property
    def res_code(self) -> int | None:
        """The API resCode of an error-envelope fault, ``None`` for the transport-level ones."""
        return int(self.value) if self.value.isdigit() else None


# The API's own wording for each documented resCode (from the API reference).
RES_MESSAGES: dict[int, str] = {
    500: "system error",
    501: "rate limit exceed",
    700: "invalid input",
    801: "model failed",
    1000: "content has sensitive data, please try other input",
    1001: "content control failed, please retry",
    1002: "content risk filter failed, please contact us",
}


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Probabilities of each fault, decided once per API call."""

    entries: tuple[tuple[Fault, float], ...] = ()

    def __post_init__(self) -> None:
        total = 0.0
        for fault, probability in self.entries:
            if not 0.0 <= probability <= 1.0:
                raise ValueError(f"probability of {fault.value} must be between 0 and 1, got {probability}")
            total += probability
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities must sum to at most 1, got {total:g}")

    @classmethod
    def parse(cls, specs: Iterable[str] | str) -> FaultPlan:
        """Build a plan from ``KIND:PROBABILITY`` strings (a string may hold several, comma-separated).

        ``KIND`` is a resCode (500, 501, 700, 801, 1000, 1001, 1002), ``timeout``, ``malformed`` or
        ``result404``. Raises ``ValueError`` with a readable message on a bad entry.
        """
        entries: list[tuple[Fault, float]] = []
        for spec in [specs] if isinstance(specs, str) else specs:
            for item in filter(None, (part.strip() for part in spec.split(","))):
                kind, separator, probability_text = item.rpartition(":")
                if not separator:
                    raise ValueError(f"fault {item!r} must be KIND:PROBABILITY, e.g. 500:0.1")
                try:
                    fault = Fault(kind.strip().lower())
                except ValueError:
                    known = ", ".join(f.value for f in Fault)
                    raise ValueError(f"unknown fault kind {kind!r}; known: {known}") from None
                try:
                    probability = float(probability_text)
                except ValueError:
                    raise ValueError(f"fault {item!r}: {probability_text!r} is not a number") from None
                entries.append((fault, probability))
        return cls(tuple(entries))

    def choose(self, rng: random.Random) -> Fault | None:
        """Draw once: the fault to play for this call, or ``None``."""
        if not self.entries:
            return None
        draw = rng.random()
        cumulative = 0.0
        for fault, probability in self.entries:
            cumulative += probability
            if draw < cumulative:
                return fault
        return None

    def to_specs(self) -> list[str]:
        """The plan written back as ``KIND:PROBABILITY`` strings (for ``/_emulator/config``)."""
        return [f"{fault.value}:{probability:g}" for fault, probability in self.entries]
