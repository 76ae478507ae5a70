"""What the deliver step decides before anything is paid, and what it is given after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cutout.engine.port import Cutout
from cutout.events import UploadedObject
from cutout.observability import logger
from cutout.ordering import Superseded, UploadWrites
from cutout.outcome import Outcome, Status
from cutout.storage import ObjectHead


@dataclass(frozen=True, slots=True)
class Plan:
    """The deliver step's decision before paying.

    ``finished``: nothing to pay, this is the outcome (a byte-identical re-upload's output exists).
    ``pays``: False when a stored master is delivered from (nothing to prepare or pay).
    ``ordering_keys``: the outputs a newer version of the key may already own (checked before paying).
    ``writes``: the upload's writes, newest version wins (``cutout.ordering.OrderedWrites``): the
    pre-pay check and every PUT share its HEADs.
    """

    upload: UploadedObject
    head: ObjectHead
    ordering_keys: tuple[str, ...] = ()
    finished: Outcome | None = None
    pays: bool = True
    writes: UploadWrites | None = None

    def superseded_before_paying(self) -> Superseded | None:
        """Whether a newer version of the key is there already (the input's current version, or an
        output under ``ordering_keys``): then nothing is paid."""
        return self.ordered_writes().superseded(self.ordering_keys)

    def ordered_writes(self) -> UploadWrites:
        if self.writes is None:
            raise TypeError("a plan that pays or writes names its ordered writes")
        return self.writes


@dataclass(frozen=True, slots=True)
class Made:
    """The cut-out to deliver (paid for or passed through) and the prepared source's metadata."""

    cutout: Cutout
    source_metadata: dict[str, str]


class DeliveryFlow(Protocol):
    """The deliver step: plan before paying, refuse what could not be used, deliver what was made."""

    def plan(self, upload: UploadedObject, head: ObjectHead) -> Plan: ...

    def admit(self, plan: Plan, source_metadata: dict[str, str]) -> None: ...

    def deliver(self, plan: Plan, made: Made | None) -> Outcome: ...


def superseded_outcome(
    upload: UploadedObject, superseded: Superseded, *, paid: bool, request_id: str | None = None
) -> Outcome:
    """A newer version of the key won: no output written (``paid``: whether this one was paid for)."""
    logger.info(
        "superseded by a newer version of the key: no output written" + ("" if paid else ", nothing paid"),
        reason=superseded.code,
        superseded_by=superseded.by,
        request_id=request_id,
    )
    return Outcome(
        status=Status.SUPERSEDED,
        identity=upload.identity,
        request_id=request_id,
        error_code=superseded.code,
    )
