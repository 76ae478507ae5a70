"""The local stack's S3 events as AWS sends them, on moto in this process (``s3_event_facts``).

One versioned bucket notifies a queue directly, an SNS topic (subscribed by a queue) and EventBridge
(a rule on the bucket, targeting a queue): every copy of a PUT's event names the version that PUT
created and carries the same sequencer, and the sequencers of a key's events grow as S3 documents
(compared left-padded, though their lengths differ). Switched off, moto's own events come back.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cutout.events import UploadedObject, uploads_from_sqs_body
from cutout.ordering import compare_sequencers
from cutout_tools.local_stack.deploy import local_client
from cutout_tools.local_stack.s3_event_facts import next_sequencer, s3_event_facts, supplying
from tests.functional.local_aws import moto_server

REGION = "us-east-1"
KEY = "photos/a b/shoe.jpg"
MOTO_EVENTBRIDGE_SEQUENCER = "617f08299329d189"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@dataclass
class Wired:
    """A bucket and the three queues its events reach: direct, through SNS, through EventBridge."""

    s3: Any
    sqs: Any
    bucket: str
    queues: dict[str, str]

    def uploads(self, route: str) -> list[UploadedObject]:
        """The uploads the route's queue holds, in arrival order, parsed as the function parses them."""
        found: list[UploadedObject] = []
        while messages := self.sqs.receive_message(
            QueueUrl=self.queues[route], MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", []):
            for message in messages:
                found.extend(uploads_from_sqs_body(message["Body"]).uploads)
                self.sqs.delete_message(QueueUrl=self.queues[route], ReceiptHandle=message["ReceiptHandle"])
        return found


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _wire(endpoint: str, *, versioned: bool) -> Wired:
    suffix = uuid.uuid4().hex[:8]
    s3, sqs = local_client("s3", endpoint, REGION), local_client("sqs", endpoint, REGION)
    sns, events = local_client("sns", endpoint, REGION), local_client("events", endpoint, REGION)
    bucket = f"photos-{suffix}"
    s3.create_bucket(Bucket=bucket)
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct_url, direct_arn = _queue(sqs, f"direct-{suffix}")
    sns_url, sns_arn = _queue(sqs, f"via-sns-{suffix}")
    bridge_url, bridge_arn = _queue(sqs, f"via-eventbridge-{suffix}")
    topic = sns.create_topic(Name=f"uploads-{suffix}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sns_arn)
    rule = f"uploads-{suffix}"
    pattern = {"source": ["aws.s3"], "detail": {"bucket": {"name": [bucket]}}}
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": bridge_arn}])
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": direct_arn, "Events": ["s3:ObjectCreated:*"]}],
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}],
            "EventBridgeConfiguration": {},
        },
    )
    wired = Wired(s3, sqs, bucket, {"direct": direct_url, "sns": sns_url, "eventbridge": bridge_url})
    for route in wired.queues:
        wired.uploads(route)  # S3's test events (no uploads in them)
    return wired


def _put_versions(wired: Wired, count: int) -> list[str | None]:
    answers = [wired.s3.put_object(Bucket=wired.bucket, Key=KEY, Body=f"v{n}".encode()) for n in range(count)]
    return [answer.get("VersionId") for answer in answers]


def test_every_copy_of_a_put_s_event_names_its_version_and_one_sequencer_that_grows_per_key(
    endpoint: str,
) -> None:
    # Given a versioned bucket notifying a queue, an SNS topic and EventBridge, with the facts on
    wired = _wire(endpoint, versioned=True)
    # When three versions of one key are uploaded back to back
    with s3_event_facts():
        version_ids = _put_versions(wired, 3)
    by_route = {route: wired.uploads(route) for route in wired.queues}

    # Then every route got the three events, each naming the version its PUT created
    for uploads in by_route.values():
        assert [upload.key for upload in uploads] == [KEY] * 3
        assert [upload.version_id for upload in uploads] == version_ids
    # ... the copies of one event share one sequencer
    sequencers = [upload.sequencer for upload in by_route["direct"]]
    assert all(sequencer for sequencer in sequencers)
    for uploads in by_route.values():
        assert [upload.sequencer for upload in uploads] == sequencers
    assert MOTO_EVENTBRIDGE_SEQUENCER not in sequencers
    # ... and the sequencers grow with each event on the key, compared as S3 documents
    texts = [str(sequencer) for sequencer in sequencers]
    assert [compare_sequencers(earlier, later) for earlier, later in itertools.pairwise(texts)] == [
        -1,
        -1,
    ]
    assert {len(text) for text in texts} <= {16, 18}


def test_an_unversioned_bucket_s_events_carry_a_growing_sequencer_and_no_version(endpoint: str) -> None:
    # Given an unversioned bucket (a shop's own, as many are), with the facts on
    wired = _wire(endpoint, versioned=False)
    # When two writes of one key are made back to back
    with s3_event_facts():
        _put_versions(wired, 2)
    direct, bridged = wired.uploads("direct"), wired.uploads("eventbridge")

    # Then no event names a version (S3 names none there), and the sequencer still orders the writes
    assert [upload.version_id for upload in direct + bridged] == [None] * 4
    assert compare_sequencers(str(direct[0].sequencer), str(direct[1].sequencer)) == -1
    assert [upload.sequencer for upload in bridged] == [upload.sequencer for upload in direct]


def test_switched_off_moto_s_own_events_come_back(endpoint: str) -> None:
    # Given a versioned bucket, and the facts switched on and off again
    wired = _wire(endpoint, versioned=True)
    with s3_event_facts():
        assert supplying()
    # When a version is uploaded
    _put_versions(wired, 1)
    # Then its events are moto's: no version id or sequencer to SQS, the constant one to EventBridge
    assert not supplying()
    [direct] = wired.uploads("direct")
    [bridged] = wired.uploads("eventbridge")
    assert (direct.version_id, direct.sequencer) == (None, None)
    assert bridged.sequencer == MOTO_EVENTBRIDGE_SEQUENCER


def test_sequencers_alternate_in_length_and_always_grow() -> None:
    # Given the sequencer source, When six are issued one after another
    issued = [next_sequencer() for _ in range(6)]
    # Then each is greater than the one before (compared left-padded) though the lengths differ,
    # which a raw string comparison or a right-padded one would get wrong
    assert all(compare_sequencers(a, b) == -1 for a, b in itertools.pairwise(issued))
    assert {len(sequencer) for sequencer in issued} == {16, 18}
    assert any(a > b for a, b in itertools.pairwise(issued))  # the raw strings disagree
