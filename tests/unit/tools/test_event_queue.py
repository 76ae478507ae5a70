"""Reading completion events from an SQS queue: each read once, counted per detail-type."""

from __future__ import annotations

import json
from typing import Any

from cutout_tools.unattended.event_queue import EventQueue, count_by_detail_type, local_queue_url


class QueueOf:
    """The few SQS calls the reader makes, over a list of bodies (receive hands out up to ten)."""

    def __init__(self, bodies: list[str]) -> None:
        self.bodies = list(bodies)
        self.deleted: list[str] = []
        self.in_flight: dict[str, str] = {}

    def receive_message(self, *, QueueUrl: str, MaxNumberOfMessages: int, WaitTimeSeconds: int) -> Any:  # noqa: N803
        taken, self.bodies = self.bodies[:MaxNumberOfMessages], self.bodies[MaxNumberOfMessages:]
        messages = [
            {"Body": body, "ReceiptHandle": f"r{len(self.in_flight) + n}"} for n, body in enumerate(taken)
        ]
        self.in_flight.update({m["ReceiptHandle"]: m["Body"] for m in messages})
        return {"Messages": messages} if messages else {}

    def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:  # noqa: N803
        self.deleted += [self.in_flight.pop(entry["ReceiptHandle"]) for entry in Entries]
        return {}

    def get_queue_url(self, *, QueueName: str) -> Any:  # noqa: N803
        return {"QueueUrl": f"http://127.0.0.1:4599/123456789012/{QueueName}"}


def event(detail_type: str, key: str) -> str:
    return json.dumps({"detail-type": detail_type, "source": "cutout", "detail": {"source": {"key": key}}})


def test_draining_reads_every_event_once_and_deletes_it() -> None:
    # Given 23 events in the queue (more than one receive's worth)
    bodies = [event("Cutout Image Processed", f"{n}.jpg") for n in range(23)]
    sqs = QueueOf(bodies)
    # When the queue is drained
    events = EventQueue(sqs, "http://q").drain()
    # Then every event came back once, in order, and each was deleted
    assert [e["detail"]["source"]["key"] for e in events] == [f"{n}.jpg" for n in range(23)]
    assert sqs.deleted == bodies
    assert sqs.in_flight == {}


def test_a_message_that_is_not_an_event_is_kept_as_such() -> None:
    # Given a queue holding a message someone else sent by hand
    sqs = QueueOf(["hello", json.dumps([1, 2])])
    # When it is read
    events = EventQueue(sqs, "http://q").read(wait_seconds=0)
    # Then it is shown for what it is, never dropped
    assert [e["detail-type"] for e in events] == ["(not JSON)", "(not an event)"]


def test_counts_list_cutouts_detail_types_first_in_their_order() -> None:
    # Given events of several detail-types, one unknown
    events = [
        {"detail-type": "Cutout Image Failed"},
        {"detail-type": "Something Else"},
        {"detail-type": "Cutout Image Processed"},
        {"detail-type": "Cutout Image Processed"},
        {"detail-type": "Cutout Paused"},
    ]
    # When they are counted
    counts = count_by_detail_type(events)
    # Then cutout's come first in the documented order, then the rest
    assert list(counts.items()) == [
        ("Cutout Image Processed", 2),
        ("Cutout Image Failed", 1),
        ("Cutout Paused", 1),
        ("Something Else", 1),
    ]


def test_a_stack_outputs_queue_url_is_looked_up_on_the_clients_endpoint() -> None:
    # Given the URL a stack's output gives (AWS's host), and a client of the local endpoint
    output = "https://sqs.us-east-1.amazonaws.com/123456789012/cutout-local-CompletionEventsQueue-AB12"
    # When it is turned into the client's URL
    url = local_queue_url(QueueOf([]), output)
    # Then it names the same queue on the local endpoint
    assert url == "http://127.0.0.1:4599/123456789012/cutout-local-CompletionEventsQueue-AB12"
