"""The EventBridge publisher alone: entries, partial failures retried, giving up loudly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cutout.announcements import (
    PAUSED,
    EventBridgePublisher,
    EventsNotPublished,
    pause_announcement,
    stable_id,
)


class ScriptedEventBridge:
    """``put_events`` answering from a script: per call, which entry positions fail."""

    def __init__(self, failing: list[set[int]]) -> None:
        self.failing = failing
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.calls.append(Entries)
        fail = self.failing.pop(0) if self.failing else set()
        results = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            if index in fail
            else {"EventId": f"e{index}"}
            for index in range(len(Entries))
        ]
        return {"FailedEntryCount": len(fail), "Entries": results}


def events(count: int) -> list[Any]:
    return [pause_announcement(PAUSED, reason_code=f"r{number}", message="m") for number in range(count)]


def test_only_the_failed_entries_are_sent_again() -> None:
    # Given EventBridge failing the 2nd of three entries once
    client = ScriptedEventBridge([{1}])
    publisher = EventBridgePublisher(client, "default", sleep=lambda seconds: None)
    # When three events are published
    publisher.publish(events(3))
    # Then the second call carried only the failed entry
    assert [len(call) for call in client.calls] == [3, 1]
    assert json.loads(client.calls[1][0]["Detail"])["reason"]["code"] == "r1"


def test_entries_go_ten_at_a_time_with_our_source_and_bus() -> None:
    # Given 23 events
    client = ScriptedEventBridge([])
    publisher = EventBridgePublisher(client, "shop-bus", sleep=lambda seconds: None)
    # When they are published
    publisher.publish(events(23))
    # Then PutEvents got at most 10 entries a call, each with source "cutout" on the named bus
    assert [len(call) for call in client.calls] == [10, 10, 3]
    assert {(entry["Source"], entry["EventBusName"]) for call in client.calls for entry in call} == {
        ("cutout", "shop-bus")
    }


def test_entries_that_keep_failing_raise_after_the_last_attempt() -> None:
    # Given EventBridge failing an entry on every attempt
    client = ScriptedEventBridge([{0}] * 10)
    publisher = EventBridgePublisher(client, "default", sleep=lambda seconds: None, max_attempts=3)
    # When it is published
    with pytest.raises(EventsNotPublished, match="InternalFailure"):
        publisher.publish(events(1))
    # Then it was tried exactly three times
    assert len(client.calls) == 3


def test_stable_ids_depend_on_the_outcome_not_on_the_moment() -> None:
    # Given the same upload identity and kind of outcome twice, and a replay of it
    first = stable_id("bucket/key@v1", None, "Cutout Image Processed")
    again = stable_id("bucket/key@v1", None, "Cutout Image Processed")
    replay = stable_id("bucket/key@v1", "2026-12-01T10:00:00Z", "Cutout Image Processed")
    # When they are compared
    # Then redeliveries share an id, a replay (a new attempt) has its own
    assert first == again
    assert first != replay
