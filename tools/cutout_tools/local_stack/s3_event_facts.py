"""S3's event facts that moto leaves out, for the moto the local stack runs in-process.

On AWS every S3 event about a version names it, and every PUT and DELETE event carries a
``sequencer`` that grows with each event on the same key (S3 user guide, "Event message
structure"). The pipeline's ordering step relies on both: an event whose version is no longer the
key's current one is superseded before paying, and two events of one key order by sequencer.
moto 5.2.5 (``moto/s3/notifications.py``) sends neither to SQS, SNS or Lambda, and a constant
sequencer (``617f08299329d189``) to EventBridge; so on the local stack every version of a key
looked as new as the others and each was paid for.

moto runs in this process (``ThreadedMotoServer``), so while a holder has them switched on
(``supply_s3_event_facts``; the local stack holds them from start to stop) its S3 events carry:

- ``versionId`` (S3 -> SQS, SNS, Lambda): the version the PUT created, as moto's own EventBridge
  ``version-id`` already is; left out on an unversioned bucket (moto's version id ``"null"``),
  as S3 leaves it out;
- ``sequencer`` (both shapes), in every ``ObjectCreated`` and ``ObjectRemoved`` event: uppercase
  hex of a value that only grows (nanoseconds since the epoch, or the last value plus one),
  shared by the copies of one event sent to several destinations. S3's sequencers differ in
  length and are compared by left-padding the shorter with zeros; here every other one has two
  leading zeros (18 digits, like the documented ``0055AED6DCD90281E5``) and the others none (16),
  so a consumer that compares raw strings or pads on the wrong side orders them wrongly on the
  local stack too, not only on AWS.

The sequencer is taken when moto sends the event, right after it stores the version. Two PUTs of
one key at the same instant could take them in the other order than the one they were stored in
(moto stores them without a lock, and may lose one of the two anyway); uploads one after the
other, as any client that waits for each answer makes them, always get them in order.

Events of other kinds (tagging, ACL, restore) and the ``s3:TestEvent`` are left as moto sends them.
Switched off (no holder), moto's events are moto's, for the tests that check the pipeline copes
with exactly those.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

ORDERED_EVENT_PREFIXES = ("s3:ObjectCreated:", "s3:ObjectRemoved:")
UNVERSIONED_VERSION_ID = "null"
LEADING_ZEROS = "00"
_PATCHED = "_cutout_s3_event_facts"


class _Facts:
    """The process's one switch (how many holders), and the last sequencer value issued."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.last_value = 0
        self.issued = 0


_facts = _Facts()
# The sequencer of the event moto is sending on this thread (None: none, or not an ordered event).
_current_sequencer: ContextVar[str | None] = ContextVar("cutout_s3_event_sequencer", default=None)


def next_sequencer() -> str:
    """A sequencer greater (compared as S3 documents) than every one issued before in this process."""
    with _facts.lock:
        _facts.last_value = max(_facts.last_value + 1, time.time_ns())
        _facts.issued += 1
        digits = f"{_facts.last_value:X}"
        return f"{LEADING_ZEROS}{digits}" if _facts.issued % 2 == 0 else digits


def supplying() -> bool:
    """Whether moto's S3 events carry the facts now (some holder has switched them on)."""
    with _facts.lock:
        return _facts.holders > 0


def supply_s3_event_facts() -> Callable[[], None]:
    """Patch moto (once per process) and switch the facts on; returns what switches this holder off.

    The facts stay on while any holder has them on (two local stacks in one process, say).
    """
    _install()
    with _facts.lock:
        _facts.holders += 1
    released = threading.Event()

    def release() -> None:
        with _facts.lock:
            if released.is_set():
                return
            released.set()
            _facts.holders -= 1

    return release


@contextmanager
def s3_event_facts() -> Iterator[None]:
    """``supply_s3_event_facts`` for the length of a ``with`` block."""
    release = supply_s3_event_facts()
    try:
        yield
    finally:
        release()


def _install() -> None:
    from moto.events.models import Rule
    from moto.s3 import notifications

    with _facts.lock:
        if getattr(notifications.send_event, _PATCHED, False):
            return
        notifications.send_event = _wrap_send_event(notifications.send_event)
        notifications._get_s3_event = _wrap_s3_event(notifications._get_s3_event)
        Rule.send_to_targets = _wrap_send_to_targets(Rule.send_to_targets)  # type: ignore[method-assign]


def _mark(function: Any) -> Any:
    setattr(function, _PATCHED, True)
    return function


def _wrap_send_event(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
        name = str(getattr(event_name, "value", event_name))
        if not supplying() or not name.startswith(ORDERED_EVENT_PREFIXES):
            original(account_id, event_name, bucket, key)
            return
        token = _current_sequencer.set(next_sequencer())  # one event, one sequencer, every destination
        try:
            original(account_id, event_name, bucket, key)
        finally:
            _current_sequencer.reset(token)

    return _mark(send_event)  # type: ignore[no-any-return]


def _wrap_s3_event(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    @functools.wraps(original)
    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event = original(event_name, bucket, key, notification_id)
        if not supplying():
            return event
        for record in event.get("Records", []):
            entry = record["s3"]["object"]
            version_id = getattr(key, "version_id", None)
            if version_id and version_id != UNVERSIONED_VERSION_ID:
                entry["versionId"] = version_id
            sequencer = _current_sequencer.get()
            if sequencer is not None:
                entry["sequencer"] = sequencer
        return event

    return _mark(get_s3_event)  # type: ignore[no-any-return]


def _wrap_send_to_targets(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        sequencer = _current_sequencer.get()
        if (
            sequencer is not None
            and isinstance(original_event, dict)
            and original_event.get("source") == "aws.s3"
        ):
            detail = original_event.get("detail")
            entry = detail.get("object") if isinstance(detail, dict) else None
            if isinstance(entry, dict):
                entry["sequencer"] = sequencer  # moto's EventBridge event has a constant one
        original(self, original_event, transform_input)

    return _mark(send_to_targets)  # type: ignore[no-any-return]
