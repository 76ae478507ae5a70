"""One upload's writes in few requests (``OrderedWrites``), newest version winning as before.

A first-time upload's outputs are PUT ``If-None-Match: *`` without a HEAD each; an output is looked
at only when S3 refuses the PUT. The S3 request sequences are checked with botocore's Stubber and
S3's own error shapes (moto answers no 409 and keeps no conditional-write race); the ordering rule
itself on the in-memory store.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cutout.events import UploadedObject
from cutout.ordering import NewestVersionWins, OrderedWrites, Superseded
from cutout.storage.objects import WriteCondition
from tests.fakes import InMemoryObjectStore
from tests.unit.ordering.ordered_writes_doubles import (
    INPUT,
    KEY,
    MASTER,
    NEWER,
    OURS,
    OUTPUT,
    T0,
    VARIANT,
    head_input,
    head_output,
    memory_writer,
    ours,
    output_of,
    put,
    stubbed,
    writer,
)

# --- the S3 requests, exactly (Stubber) ---------------------------------------------------------


def test_a_first_time_upload_writes_every_output_with_if_none_match_and_no_head_of_its_own() -> None:
    # Given S3 expecting exactly: the master's key looked up once (absent), the input's current
    # version before paying and once before the first write, then two PUTs If-None-Match: *
    stubber, store = stubbed()
    head_output(stubber, MASTER, None)
    head_input(stubber, OURS)
    head_input(stubber, OURS)
    put(stubber, MASTER, {"IfNoneMatch": "*"})
    put(stubber, VARIANT, {"IfNoneMatch": "*"})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*ours())
    # When the stored-master lookup, the pre-pay check and the two writes run, in the conductor's order
    with stubber:
        assert writes.output(MASTER) is None
        assert writes.superseded([MASTER]) is None
        assert writes(MASTER, writer(store, MASTER)) is None
        assert writes(VARIANT, writer(store, VARIANT)) is None
    # Then S3 saw those requests and no other (Stubber refuses any request not queued)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("refusal", ["PreconditionFailed", "ConditionalRequestConflict"])
def test_an_output_guessed_absent_but_holding_an_older_version_is_replaced_if_match(refusal: str) -> None:
    # Given a first-time master, and a variant key S3 says is taken (412 or 409) by an older version's
    stubber, store = stubbed()
    head_output(stubber, MASTER, None)
    head_input(stubber, OURS)
    put(stubber, MASTER, {"IfNoneMatch": "*"})
    put(stubber, VARIANT, {"IfNoneMatch": "*"}, error=refusal)
    head_output(stubber, VARIANT, output_of("v-older", "0A"), etag="older")
    put(stubber, VARIANT, {"IfMatch": '"older"'})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*ours())
    # When both are written
    with stubber:
        writes.output(MASTER)
        assert writes(MASTER, writer(store, MASTER)) is None
        outcome = writes(VARIANT, writer(store, VARIANT))
    # Then the refused PUT made one HEAD, and the second PUT replaced the older output If-Match its ETag
    assert outcome is None
    stubber.assert_no_pending_responses()


def test_an_output_guessed_absent_but_holding_a_newer_version_stops_the_writes() -> None:
    # Given a variant key S3 says is taken (412) by a newer version's output
    stubber, store = stubbed()
    head_output(stubber, MASTER, None)
    head_input(stubber, OURS)
    put(stubber, MASTER, {"IfNoneMatch": "*"})
    put(stubber, VARIANT, {"IfNoneMatch": "*"}, error="PreconditionFailed")
    head_output(stubber, VARIANT, output_of(NEWER, "0C"), etag="newer")
    writes = NewestVersionWins(store, OUTPUT).writes_for(*ours())
    # When both are written
    with stubber:
        writes.output(MASTER)
        writes(MASTER, writer(store, MASTER))
        outcome = writes(VARIANT, writer(store, VARIANT))
    # Then our version is superseded by that output, and no second PUT was sent
    assert isinstance(outcome, Superseded)
    assert "newer version" in outcome.by
    stubber.assert_no_pending_responses()


def test_after_a_refused_guess_the_next_outputs_are_looked_at_before_their_put() -> None:
    # Given a refused guess on the first variant (an older output was there)
    stubber, store = stubbed()
    head_output(stubber, MASTER, None)
    head_input(stubber, OURS)
    put(stubber, MASTER, {"IfNoneMatch": "*"})
    put(stubber, VARIANT, {"IfNoneMatch": "*"}, error="PreconditionFailed")
    head_output(stubber, VARIANT, output_of("v-older", "0A"), etag="older")
    put(stubber, VARIANT, {"IfMatch": '"older"'})
    other = "listing-webp/shoe.jpg.webp"
    head_output(stubber, other, output_of("v-older", "0A"), etag="older2")
    put(stubber, other, {"IfMatch": '"older2"'})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*ours())
    # When a third output is written
    with stubber:
        writes.output(MASTER)
        writes(MASTER, writer(store, MASTER))
        writes(VARIANT, writer(store, VARIANT))
        assert writes(other, writer(store, other)) is None
    # Then it was HEADed first (the guess is not made again) and replaced If-Match its ETag
    stubber.assert_no_pending_responses()


def test_after_a_refused_guess_the_next_output_is_looked_at_even_if_the_refused_one_is_absent_again() -> None:
    # Given a first-time upload whose guessed master PUT meets a concurrent write in progress (409),
    # which then did not complete: the master's key is absent again when looked at
    stubber, store = stubbed()
    head_output(stubber, MASTER, None)
    head_input(stubber, OURS)
    put(stubber, MASTER, {"IfNoneMatch": "*"}, error="ConditionalRequestConflict")
    head_output(stubber, MASTER, None)
    put(stubber, MASTER, {"IfNoneMatch": "*"})
    head_output(stubber, VARIANT, None)
    put(stubber, VARIANT, {"IfNoneMatch": "*"})
    writes = NewestVersionWins(store, OUTPUT).writes_for(*ours())
    # When the master is written (on its second attempt), then a variant
    with stubber:
        writes.output(MASTER)
        assert writes(MASTER, writer(store, MASTER)) is None
        assert writes(VARIANT, writer(store, VARIANT)) is None
    # Then the variant was HEADed before its PUT: a guess that failed once is not made again for
    # this upload, whatever the refused key looks like afterwards
    stubber.assert_no_pending_responses()


# --- the rule, on the in-memory store -------------------------------------------------------------


def _unordered(store: InMemoryObjectStore) -> tuple[OrderedWrites, UploadedObject, Any]:
    """Our version (no sequencer: a backfill's), its master written; then the key re-uploaded."""
    stored = store.add(INPUT, KEY, b"ours")
    stored.last_modified = T0
    upload = UploadedObject(INPUT, KEY, version_id=stored.version_id)
    writes = NewestVersionWins(store, OUTPUT).writes_for(upload, store.head(INPUT, KEY, stored.version_id))
    writes.output(MASTER)
    assert writes.superseded([MASTER]) is None
    assert writes(MASTER, memory_writer(store, MASTER, upload, T0)) is None
    return writes, upload, stored


def test_an_unordered_output_of_a_newer_version_found_at_a_write_asks_the_input_and_loses_to_it() -> None:
    # Given our master written, then a newer version of the key uploaded in the same second, with no
    # sequencers on either side, whose variant lands before ours
    store = InMemoryObjectStore()
    writes, upload, _ = _unordered(store)
    newer = store.add(INPUT, KEY, b"newer")
    newer.last_modified = T0 + timedelta(milliseconds=300)
    newer_upload = UploadedObject(INPUT, KEY, version_id=newer.version_id)
    memory_writer(store, VARIANT, newer_upload, T0)(WriteCondition(if_absent=True))
    heads = store.heads
    # When our variant is written (guessed absent: S3 refuses it)
    outcome = writes(VARIANT, memory_writer(store, VARIANT, upload, T0))
    # Then the stamps could not order the two, so the key's current version decided: ours lost
    assert isinstance(outcome, Superseded)
    assert outcome.by == f"version {newer.version_id} of s3://{INPUT}/{KEY}"
    assert store.objects[(OUTPUT, VARIANT)].metadata["source-version-id"] == newer.version_id
    assert store.heads == heads + 2  # the variant, then the input


def test_an_unordered_output_of_an_older_version_found_at_a_write_is_replaced_when_ours_is_current() -> None:
    # Given our master written, and a variant left by an older version of the same second (unordered)
    store = InMemoryObjectStore()
    older_upload = UploadedObject(INPUT, KEY, version_id="v-older")
    memory_writer(store, VARIANT, older_upload, T0)(WriteCondition(if_absent=True))
    writes, upload, stored = _unordered(store)
    # When our variant is written
    outcome = writes(VARIANT, memory_writer(store, VARIANT, upload, T0))
    # Then the key's current version is ours: the older output is replaced
    assert outcome is None
    assert store.objects[(OUTPUT, VARIANT)].metadata["source-version-id"] == stored.version_id
