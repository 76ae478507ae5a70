"""What happened to one uploaded object version."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    DONE = "done"  # the cut-out is in the output bucket
    UNCHANGED = "unchanged"  # a byte-identical re-upload: its output already exists, nothing paid
    FAILED = "failed"  # a DLQ record says why
    SUPERSEDED = "superseded"  # a newer version of the key won (error_code says so); no DLQ record
    REVIEW = "review"  # held by the quality gate: the outputs are under review/, not published


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    identity: str
    output_key: str | None = None
    request_id: str | None = None
    error_code: str | None = None
    # The event announcing this outcome, built once with it: a redelivery announces the same one.
    announcement: dict[str, Any] | None = None
    # With profiles: the profile, the master's key and every variant stored (``StoredOutput.to_dict``).
    profile: str | None = None
    master_key: str | None = None
    outputs: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        known = {name: value for name, value in data.items() if name in cls.__dataclass_fields__}
        return cls(**{**known, "status": Status(data["status"]), "outputs": tuple(data.get("outputs") or ())})
