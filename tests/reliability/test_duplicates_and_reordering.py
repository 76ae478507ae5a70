"""Duplicates, reordering and crashes: however often and in whatever order events arrive, and even
when the process dies between the API's success and the output PUTs, the API bills at most one call
per object version, each key's outputs are its newest version's, and an older version whose newer
one is already known is superseded without a call. With the shipped profiles (the template's
default): each upload's outputs are its master and three variants, and a crash may come after the
master or between two variants.

The events are the real ones moto's S3 sent to the work queue, with the version id and sequencer
real S3 puts in them (``s3_event_facts``, as on the local stack: moto alone leaves them out), then
delivered to the real handler twice or three times each, shuffled, in batches of random sizes,
while the output PUT of some objects crashes on its first attempt.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cutout.profiles import load_profiles
from cutout.storage.objects import S3ObjectStore
from cutout.variants import master_key, variant_key
from cutout_tools.local_stack.lambda_runtime import sqs_event_from_messages
from cutout_tools.local_stack.s3_event_facts import s3_event_facts
from tests.functional.aidge_testkit import product_photo
from tests.functional.pipeline.world import REGION, World

SHIPPED_PROFILES = Path(__file__).parents[2] / "functions" / "process_upload" / "profiles.toml"
# The first PUT of these crashes: a master (after the paid call), a variant after two of three, the
# first variant (after the master).
CRASHING = {"masters/dup/03.jpg.png", "listing-webp/dup/07.jpg.webp", "web-transparent/dup/11.jpg.png"}


class CrashOncePerKey:
    """Wraps ``S3ObjectStore.put``: the first output PUT of each chosen key raises, as a process
    killed after the paid call would; later PUTs go through."""

    def __init__(self, real_put: Any, keys: set[str]) -> None:
        self._real_put = real_put
        self._pending = set(keys)
        self.crashed: list[str] = []

    def __call__(self, store: S3ObjectStore, bucket: str, key: str, *rest: Any, **options: Any) -> None:
        if key in self._pending:
            self._pending.discard(key)
            self.crashed.append(key)
            raise RuntimeError("simulated crash between the API's success and the output PUT")
        self._real_put(store, bucket, key, *rest, **options)


def _s3_events(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The S3 notifications among ``messages`` (the test event dropped)."""
    return [message for message in messages if "Records" in json.loads(message["Body"])]


def _batches(deliveries: list[dict[str, Any]], rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    """Batches of 1 to 6 in the given order; one batch never holds the same message twice (as in SQS)."""
    pending = list(deliveries)
    while pending:
        size, batch, rest = rng.randint(1, 6), [], []
        for message in pending:
            fits = len(batch) < size and all(message["MessageId"] != other["MessageId"] for other in batch)
            (batch if fits else rest).append(message)
        pending = rest
        yield batch


@pytest.mark.slow
def test_duplicated_reordered_and_crashed_deliveries_bill_each_version_once_and_the_newest_wins(
    make_world: Callable[..., World], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the shipped profiles, 12 uploads, two keys uploaded twice with new content (14 object versions)
    world = make_world(PROFILES_FILE=str(SHIPPED_PROFILES))
    profile = load_profiles(SHIPPED_PROFILES).choose("dup/00.jpg")
    rng = random.Random(5)
    versions: dict[tuple[str, str], str] = {}

    def upload(key: str, data: bytes) -> None:
        versions[(key, hashlib.md5(data, usedforsecurity=False).hexdigest())] = world.upload(key, data)

    # (photos whose product amazon-main enlarges under the quality gate's 4x limit: smaller ones are held)
    newest = {"dup/00.jpg": product_photo(933, 722), "dup/01.jpg": product_photo(934, 722)}
    with s3_event_facts():  # the events as S3 sends them: the version each PUT made, a sequencer
        for n in range(12):
            upload(f"dup/{n:02d}.jpg", product_photo(900 + n, 700))
        for key, data in newest.items():
            upload(key, data)  # back to back: within the second of the first versions, as a rule
    messages: list[dict[str, Any]] = []
    while batch := world.receive():
        messages.extend(batch)
    events = _s3_events(messages)
    assert len(events) == 14
    assert {json.loads(event["Body"])["Records"][0]["s3"]["object"]["versionId"] for event in events} == set(
        versions.values()
    )
    # ... and the first PUT of three output objects crashes after the paid call
    crash = CrashOncePerKey(S3ObjectStore.put, CRASHING)

    def crashing_put(store: S3ObjectStore, bucket: str, key: str, *rest: Any, **options: Any) -> None:
        crash(store, bucket, key, *rest, **options)

    monkeypatch.setattr(S3ObjectStore, "put", crashing_put)

    # When every event is delivered twice, a third of them three times, all shuffled, in random batches,
    deliveries = [event for event in events for _ in range(2)] + rng.sample(events, k=len(events) // 3)
    rng.shuffle(deliveries)
    failed: list[dict[str, Any]] = []
    for batch in _batches(deliveries, rng):
        response = world.invoke(sqs_event_from_messages(batch, world.work_queue_arn, REGION))
        failed_ids = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        failed += [message for message in batch if message["MessageId"] in failed_ids]
    # ... and what failed (the crashed records) is redelivered once more, as SQS would
    retry = world.invoke(sqs_event_from_messages(failed, world.work_queue_arn, REGION)) if failed else {}

    # Then the crashes happened and were reported for redelivery, which then succeeded
    assert sorted(crash.crashed) == sorted(CRASHING)
    assert len(failed) >= 3
    assert retry.get("batchItemFailures", []) == []
    # ... the API billed one call per object version delivered, however many variants each (none
    # twice, the crashed ones included): the two older versions, whose newer ones already existed
    # when their events came, are superseded without a call
    stats = world.emulator.stats()
    assert len(set(versions.values())) == 14
    assert stats["billed"] == 12
    # ... (by object: URL mode accounts by key)
    billed_by_key = Counter(
        {object_id.rsplit("/", 2)[-1]: entry["billed"] for object_id, entry in stats["by_object"].items()}
    )
    assert all(billed_by_key[f"{n:02d}.jpg"] == 1 for n in range(12))
    # ... every key has its master and every variant, the re-uploaded keys their newest version's,
    # and nothing went to the DLQ
    outputs = world.outputs()
    expected: dict[str, str] = {}
    for n in range(12):
        key = f"dup/{n:02d}.jpg"
        expected[master_key(key)] = key
        for spec in profile.variants:
            expected[variant_key(key, spec.name, spec.format.extension)] = key
    assert sorted(outputs) == sorted(expected)
    for key, data in newest.items():
        newest_version = versions[(key, hashlib.md5(data, usedforsecurity=False).hexdigest())]
        made_from = {
            outputs[output]["metadata"]["source-version-id"]
            for output, source in expected.items()
            if source == key
        }
        assert made_from == {newest_version}
    assert world.dlq_records() == []
