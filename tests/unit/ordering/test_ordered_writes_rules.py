"""The rules ``OrderedWrites`` keeps while it saves requests, each from both sides.

- The input (the key's current version) is asked once before an upload's first write, not again
  for that first PUT's judgement; it is asked again when a retry finds an output that cannot be
  ordered against ours.
- A refused conditional PUT is retried up to ``WRITE_ATTEMPTS`` times; the output is looked at
  again between attempts, never after the last refusal; then the write fails, retryably.
- An unordered output made from another version id, whichever way the ids sort, is not ours: the
  input decides. One made from our own version id is ours: replaced without asking.
- While every output looked at was absent, an unseen one is guessed absent (``If-None-Match: *``,
  no HEAD); once one was found present (by a HEAD or a refused PUT), the unseen ones are HEADed.

Our requests are recorded by the in-memory store; another writer lands between our check and our
PUT (``before_put``), which makes each race deterministic.
"""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cutout.events import UploadedObject
from cutout.ordering import NewestVersionWins, OrderedWrites, Superseded
from cutout.ordering.newest import WRITE_ATTEMPTS, OutputWriteConflict
from tests.unit.ordering.ordered_writes_doubles import (
    INPUT,
    KEY,
    MASTER,
    NEWER,
    OURS,
    OUTPUT,
    T0,
    VARIANT,
    RecordingStore,
    memory_writer,
)

OLDER = "v-older"
LISTING = "listing-webp/shoe.jpg.webp"


def _our_version(
    store: RecordingStore, version_id: str = OURS, sequencer: str | None = None
) -> tuple[OrderedWrites, UploadedObject]:
    """Our version, the key's current one (last modified ``T0``), and the writes of its upload."""
    stored = store.add(INPUT, KEY, b"ours", version_id=version_id)
    stored.last_modified = T0
    upload = UploadedObject(INPUT, KEY, version_id=version_id, sequencer=sequencer)
    head = store.head(INPUT, KEY, version_id)
    store.requests.clear()  # the conductor's HEAD of the event's version: not the step's
    return NewestVersionWins(store, OUTPUT).writes_for(upload, head), upload


def _newer_version_uploaded(store: RecordingStore, version_id: str = NEWER) -> None:
    """A newer version of the key, written in the same second as ours (Last-Modified cannot tell)."""
    store.add(INPUT, KEY, b"newer", version_id=version_id).last_modified = T0


def _source_version(store: RecordingStore, key: str) -> str:
    return store.objects[(OUTPUT, key)].metadata["source-version-id"]


# --- 1. the input: asked once before the first write, again on a retry that cannot order ----------


def test_the_first_write_over_an_unordered_output_seen_before_paying_asks_the_input_no_third_time() -> None:
    # Given an older version's master of the same second, no sequencers (it cannot be ordered
    # against ours), seen by the stored-master lookup and the pre-pay check
    store = RecordingStore()
    store.land(MASTER, OLDER, T0)
    writes, upload = _our_version(store)
    assert writes.output(MASTER) is not None
    assert writes.superseded([MASTER]) is None
    # When the upload's first output is written over it
    outcome = writes(MASTER, memory_writer(store, MASTER, upload, T0))
    # Then the input was asked before paying and once before the write, not again for that PUT,
    # and the master was replaced If-Match the ETag seen, in one PUT
    assert outcome is None
    assert len(store.sent("HEAD", INPUT)) == 2
    puts = store.sent("PUT", OUTPUT, MASTER)
    assert [put.found for put in puts] == [True]
    assert puts[0].header == "If-Match"
    assert _source_version(store, MASTER) == OURS


@pytest.mark.parametrize("current", ["a newer version", "ours"])
def test_a_retry_of_the_first_write_that_finds_an_unordered_output_asks_the_input_again(current: str) -> None:
    # Given our master absent when looked at, and, between our check and our first PUT, another
    # version's master landing, stamped in the same second with no sequencer (unordered): a newer
    # version just uploaded, or an older one while ours stays current
    store = RecordingStore()
    if current == "ours":
        store.add(INPUT, KEY, b"older", version_id=OLDER).last_modified = T0
    writes, upload = _our_version(store)
    assert writes.output(MASTER) is None
    assert writes.superseded([MASTER]) is None
    other = NEWER if current == "a newer version" else OLDER

    def lands() -> None:
        if current == "a newer version":
            _newer_version_uploaded(store)
        store.land(MASTER, other, T0)

    store.before_put = [lands]
    # When our first write is refused and retried
    outcome = writes(MASTER, memory_writer(store, MASTER, upload, T0))
    # Then the input was asked a third time, after the refusal, and the key's current version decided
    assert len(store.sent("HEAD", INPUT)) == 3
    if current == "a newer version":
        assert outcome == Superseded(by=f"version {NEWER} of s3://{INPUT}/{KEY}")
        assert len(store.sent("PUT", OUTPUT, MASTER)) == 1  # only the refused one
        assert _source_version(store, MASTER) == NEWER
    else:
        assert outcome is None
        assert [put.found for put in store.sent("PUT", OUTPUT, MASTER)] == [False, True]
        assert _source_version(store, MASTER) == OURS


# --- 2. refused PUTs: retried WRITE_ATTEMPTS times, looked at between attempts, not after the last --


@pytest.mark.parametrize("refusals", range(WRITE_ATTEMPTS + 1))
def test_refused_puts_are_retried_up_to_the_limit_looking_again_only_between_attempts(refusals: int) -> None:
    # Given our master absent when looked at, and older versions' masters landing before each of
    # our first ``refusals`` PUTs (each a new ETag: every one of those PUTs is refused)
    store = RecordingStore()
    writes, upload = _our_version(store, sequencer="0B")
    assert writes.output(MASTER) is None
    assert writes.superseded([MASTER]) is None
    store.before_put = [lambda: store.land(MASTER, OLDER, T0, sequencer="0A")] * refusals
    store.requests.clear()
    # When the master is written
    attempts = min(refusals + 1, WRITE_ATTEMPTS)
    if refusals < WRITE_ATTEMPTS:
        outcome = writes(MASTER, memory_writer(store, MASTER, upload, T0))
        # Then after each refusal the master was looked at again and replaced If-Match; it is ours
        assert outcome is None
        assert _source_version(store, MASTER) == OURS
    else:
        with pytest.raises(OutputWriteConflict) as conflict:
            writes(MASTER, memory_writer(store, MASTER, upload, T0))
        # Then, every PUT refused, the write fails with a retryable reason
        assert conflict.value.retryable
    # and exactly ``attempts`` PUTs were sent, a HEAD of the master between two, none after the last
    output_requests = [request.verb for request in store.requests if request.bucket == OUTPUT]
    assert output_requests == (["PUT", "HEAD"] * attempts)[:-1]
    puts = store.sent("PUT", OUTPUT, MASTER)
    assert [put.found for put in puts] == [False] * refusals + [True] * (attempts - refusals)
    assert puts[0].header == "If-None-Match"
    assert all(put.header == "If-Match" for put in puts[1:])
    assert len(store.sent("HEAD", INPUT)) == 1  # once before the first write; ordered outputs: never again


# --- 3. whose output: the same version id is ours; any other is not, whichever way ids sort ----------

_VERSION_IDS = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=32).filter(
    lambda version_id: version_id != "null"  # "null" is a suspended bucket's version: unversioned
)


@settings(deadline=None)
@given(
    ids=st.tuples(_VERSION_IDS, _VERSION_IDS).filter(lambda pair: pair[0] != pair[1]),
    theirs_current=st.booleans(),
)
@example(ids=("v-b", "v-a"), theirs_current=True)  # theirs sorts before ours
@example(ids=("v-b", "v-a"), theirs_current=False)
@example(ids=("v-a", "v-b"), theirs_current=True)  # theirs sorts after ours
@example(ids=("v-a", "v-b"), theirs_current=False)
def test_an_unordered_output_of_another_version_id_is_not_ours_and_the_input_decides(
    ids: tuple[str, str], theirs_current: bool
) -> None:
    # Given our master written, and a variant made from another version id in the same second,
    # with no sequencers (stamps that cannot be ordered): the key's newer current version's, or
    # an older version's while ours is current
    ours, theirs = ids
    store = RecordingStore()
    if not theirs_current:
        store.add(INPUT, KEY, b"theirs", version_id=theirs).last_modified = T0
        store.land(VARIANT, theirs, T0)
    writes, upload = _our_version(store, version_id=ours)
    writes.output(MASTER)
    assert writes.superseded([MASTER]) is None
    assert writes(MASTER, memory_writer(store, MASTER, upload, T0)) is None
    if theirs_current:
        _newer_version_uploaded(store, theirs)
        store.land(VARIANT, theirs, T0)
    # When our variant is written
    outcome = writes(VARIANT, memory_writer(store, VARIANT, upload, T0))
    # Then the input was asked about it (a third time), and its answer decided
    assert len(store.sent("HEAD", INPUT)) == 3
    if theirs_current:
        assert outcome == Superseded(by=f"version {theirs} of s3://{INPUT}/{KEY}")
        assert _source_version(store, VARIANT) == theirs
    else:
        assert outcome is None
        assert _source_version(store, VARIANT) == ours


@settings(deadline=None)
@given(version_id=_VERSION_IDS)
@example(version_id=OURS)
def test_an_output_of_our_own_version_id_is_ours_and_replaced_without_asking_the_input(
    version_id: str,
) -> None:
    # Given a redelivery: our version's master and variant already written, stamped in the same
    # second with no sequencer (nothing else could order them against ours)
    store = RecordingStore()
    store.land(MASTER, version_id, T0)
    store.land(VARIANT, version_id, T0)
    writes, upload = _our_version(store, version_id=version_id)
    writes.output(MASTER)
    assert writes.superseded([MASTER]) is None
    # When both are written again
    assert writes(MASTER, memory_writer(store, MASTER, upload, T0)) is None
    outcome = writes(VARIANT, memory_writer(store, VARIANT, upload, T0))
    # Then the variant, found by its HEAD, was replaced If-Match without asking the input again
    # (asked before paying and before the first write only)
    assert outcome is None
    assert len(store.sent("HEAD", INPUT)) == 2
    puts = store.sent("PUT", OUTPUT, VARIANT)
    assert [put.found for put in puts] == [True]
    assert puts[0].header == "If-Match"


# --- 4. guessing absent: only while every output looked at was absent --------------------------------


def _cases() -> list[tuple[tuple[bool, ...], int]]:
    """Every presence pattern of 2 and 3 outputs, with 1..n-1 of them looked at before the writes."""
    return [
        (present, looked)
        for count in (2, 3)
        for present in itertools.product((False, True), repeat=count)
        for looked in range(1, count)
    ]


def _case_id(case: tuple[tuple[bool, ...], int]) -> str:
    present, looked = case
    shown = ["present" if there else "absent" for there in present]
    return f"looked at {','.join(shown[:looked])}; then {','.join(shown[looked:])}"


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_an_unseen_output_is_guessed_absent_only_while_every_output_looked_at_was_absent(
    case: tuple[tuple[bool, ...], int],
) -> None:
    # Given an upload's 2 or 3 outputs, each absent or holding an older version's output (older by
    # sequencer), the first ``looked`` of them looked at before paying
    present, looked = case
    keys = [MASTER, VARIANT, LISTING][: len(present)]
    store = RecordingStore()
    for key, there in zip(keys, present, strict=True):
        if there:
            store.land(key, OLDER, T0, sequencer="0A")
    writes, upload = _our_version(store, sequencer="0B")
    assert writes.superseded(keys[:looked]) is None
    # When every output is written, in order
    outcomes = [writes(key, memory_writer(store, key, upload, T0)) for key in keys]
    # Then each is ours, a key looked at is not HEADed again, and an unseen key is HEADed before
    # its PUT exactly when an output answered "present" before it (a HEAD found one, a PUT refused)
    assert outcomes == [None] * len(keys)
    assert all(_source_version(store, key) == OURS for key in keys)
    requests = [request for request in store.requests if request.bucket == OUTPUT]
    for index, key in enumerate(keys):
        first = next(at for at, request in enumerate(requests) if request.key == key)
        if index < looked:
            assert [request.verb for request in requests if request.key == key].count("HEAD") == 1
            continue
        present_before = any(
            request.found if request.verb == "HEAD" else not request.found  # found one, or refused
            for request in requests[:first]
        )
        assert requests[first].verb == ("HEAD" if present_before else "PUT"), requests
        if not present_before:
            assert requests[first].header == "If-None-Match"
