"""The deliver step alone: what it plans before paying, and what it writes from what was made."""

from __future__ import annotations

import pytest

from cutout.deliver import Made, Plan, ProfileDelivery, ProfilePlan
from cutout.deliverables import Deliverables
from cutout.engine.port import Background, Cutout, CutoutOptions
from cutout.events import UploadedObject
from cutout.ordering import NewestVersionWins
from cutout.outcome import Status
from cutout.pixels import pixel_budget
from cutout.profiles import (
    PROFILE_METADATA_KEY,
    SINGLE_PROFILE,
    SingleProfile,
    parse_profiles,
    single_profile,
)
from cutout.quality_gate import QualityThresholds
from cutout.storage import ObjectHead
from tests.fakes import InMemoryObjectStore, RecordingMetrics, image_bytes

INPUT, OUTPUT = "in", "out"
PROFILES = parse_profiles(
    """
default = "shop"

[profiles.shop]
variants = [{ preset = "web-transparent" }]
"""
)


def _upload(store: InMemoryObjectStore, key: str = "shoes/red.jpg") -> tuple[UploadedObject, ObjectHead]:
    stored = store.add(INPUT, key, image_bytes(), True)
    upload = UploadedObject(
        bucket=INPUT, key=key, version_id=stored.version_id, etag=stored.etag, size=len(stored.data)
    )
    return upload, store.head(INPUT, key, stored.version_id)


def _single(
    store: InMemoryObjectStore,
    background: Background = Background.TRANSPARENT,
    *,
    skip_unchanged: bool = True,
) -> ProfileDelivery:
    """The deliver step of the single cut-out mode: the built-in profile (as ``wiring`` builds it)."""
    profile = single_profile(CutoutOptions(background=background), QualityThresholds())
    return ProfileDelivery(
        profiles=profile,
        deliverables=Deliverables(store, OUTPUT),
        output_bucket=OUTPUT,
        options=profile.paid_call,
        newest=NewestVersionWins(store, OUTPUT),
        metrics=RecordingMetrics(),
        skip_unchanged=skip_unchanged,
        pixels=pixel_budget(),
    )


def _profiles(store: InMemoryObjectStore, *, skip_unchanged: bool = True) -> ProfileDelivery:
    return ProfileDelivery(
        profiles=PROFILES,
        deliverables=Deliverables(store, OUTPUT),
        output_bucket=OUTPUT,
        options=CutoutOptions(background=Background.TRANSPARENT),
        newest=NewestVersionWins(store, OUTPUT),
        metrics=RecordingMetrics(),
        skip_unchanged=skip_unchanged,
        pixels=pixel_budget(),
    )


def _made(score: float) -> Made:
    data = image_bytes(400, 300, "PNG", "RGBA")
    cutout = Cutout.from_bytes(
        data,
        content_type="image/png",
        width=400,
        height=300,
        score=score,
        usage=1,
        request_id="req-1",
        engine="fake",
    )
    return Made(cutout, {"source-width": "400", "source-height": "300"})


@pytest.mark.parametrize(
    ("background", "keys"),
    [
        (Background.TRANSPARENT, ("shoes/red.jpg.png",)),
        (Background.WHITE, ("shoes/red.jpg.jpg", "shoes/red.jpg.png")),
    ],
)
def test_the_single_mode_plans_to_pay_and_names_the_outputs_a_newer_version_may_own(
    background: Background, keys: tuple[str, ...]
) -> None:
    # Given an upload with no output yet
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    # When the single mode plans it
    plan = _single(store, background).plan(upload, head)
    # Then it pays, and the outputs checked for a newer version are the keys the result may take
    assert plan.finished is None
    assert plan.pays is True
    assert plan.ordering_keys == keys
    # (the built-in profile: one variant, as returned, whatever the upload's metadata names)
    assert isinstance(plan, ProfilePlan)
    assert isinstance(plan.profile, SingleProfile)
    assert plan.profile.name == SINGLE_PROFILE


@pytest.mark.parametrize(
    ("skip_unchanged", "same_bytes", "finished"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_the_single_mode_pays_nothing_for_a_byte_identical_re_upload_only_when_told(
    skip_unchanged: bool, same_bytes: bool, finished: bool
) -> None:
    # Given an output already made from this very version of the key (or from other bytes)
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    etag = head.etag if same_bytes else "other-bytes"
    store.add(OUTPUT, "shoes/red.jpg.png", b"png", True).metadata.update(
        {"source-bucket": INPUT, "source-etag": etag or "", "source-version-id": head.version_id or ""}
    )
    # When the single mode plans the upload
    single = _single(store, skip_unchanged=skip_unchanged)
    plan = single.plan(upload, head)
    # Then a byte-identical re-upload pays nothing and is delivered from its output (unchanged,
    # nothing written) only with skip_unchanged: without it even this version's output does not
    # spare the call (a redelivery goes through the paid call's checkpoint, as before 0.3.0)
    assert plan.pays is not finished
    if finished:
        outcome = single.deliver(plan, None)
        assert outcome.status is Status.UNCHANGED
        assert outcome.output_key == "shoes/red.jpg.png"
        assert [put for put in store.puts if put[0] == OUTPUT] == []


@pytest.mark.parametrize(
    ("score", "key", "status"),
    [(0.9, "shoes/red.jpg.png", Status.DONE), (0.1, "review/shoes/red.jpg.png", Status.REVIEW)],
)
def test_the_single_mode_writes_a_good_cut_out_at_its_key_and_holds_a_doubtful_one_under_review(
    score: float, key: str, status: Status
) -> None:
    # Given a planned upload and a cut-out with a good (or doubtful) score
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    single = _single(store)
    plan = single.plan(upload, head)
    # When it is delivered
    outcome = single.deliver(plan, _made(score))
    # Then it is written once, at the published key or under review/
    assert outcome.status is status
    assert outcome.output_key == key
    assert [put[1] for put in store.puts if put[0] == OUTPUT] == [key]


def test_the_single_mode_delivers_only_a_cut_out_it_was_given_or_the_output_it_found() -> None:
    # Given a plan that pays (no output made from these bytes)
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    single = _single(store)
    # When it is asked to deliver nothing
    # Then it refuses
    with pytest.raises(TypeError):
        single.deliver(single.plan(upload, head), None)


def test_a_profile_plan_pays_for_a_master_and_checks_the_master_s_key_for_a_newer_version() -> None:
    # Given an upload with no master stored
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    # When the profile flow plans it
    plan = _profiles(store).plan(upload, head)
    # Then it pays, for the master whose key a newer version may already own
    assert isinstance(plan, ProfilePlan)
    assert plan.pays is True
    assert plan.stored is None
    assert plan.ordering_keys == ("masters/shoes/red.jpg.png",)
    assert plan.profile.name == "shop"


def test_a_profile_plan_with_the_master_stored_pays_nothing_and_delivers_from_it() -> None:
    # Given an upload whose master was made and stored (a crash after paying, say)
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    flow = _profiles(store)
    first = flow.deliver(flow.plan(upload, head), _made(0.9))
    puts_before = len(store.puts)
    # When it is planned and delivered again
    plan = flow.plan(upload, head)
    again = flow.deliver(plan, None)
    # Then nothing is paid, nothing written again, and its outputs are the same
    assert plan.pays is False
    assert again.status is Status.UNCHANGED
    assert again.outputs == first.outputs
    assert len(store.puts) == puts_before


@pytest.mark.parametrize(
    ("skip_unchanged", "version_id", "expected"),
    [(True, "v1", None), (False, "v1", "v1"), (False, "null", None)],
)
def test_the_source_match_names_the_version_only_when_a_new_version_of_the_same_bytes_is_made_again(
    skip_unchanged: bool, version_id: str, expected: str | None
) -> None:
    # Given an upload of a version (or of the unversioned "null" version)
    store = InMemoryObjectStore()
    upload = UploadedObject(bucket=INPUT, key="a.jpg", version_id=version_id, etag="e1", size=1)
    head = ObjectHead(size=1, etag="e1", version_id=version_id, content_type="image/jpeg", metadata={})
    # When its source match is computed
    match = _profiles(store, skip_unchanged=skip_unchanged).source_match(upload, head)
    # Then the bytes always count, the version only without skip_unchanged (and never "null")
    assert match["source-bucket"] == INPUT
    assert match["source-etag"] == "e1"
    assert match.get("source-version-id") == expected


def test_the_profile_flow_delivers_only_its_own_plans() -> None:
    # Given a plan the profile flow did not make
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    # When it is asked to deliver it, or to admit a source for it
    flow = _profiles(store)
    # Then it refuses
    with pytest.raises(TypeError):
        flow.deliver(Plan(upload, head), None)
    with pytest.raises(TypeError):
        flow.admit(Plan(upload, head), {})


def test_the_single_mode_s_one_output_is_its_master_whatever_profile_the_upload_names() -> None:
    # Given an upload whose metadata names a profile this stack does not have
    store = InMemoryObjectStore()
    upload, head = _upload(store)
    head = ObjectHead(
        size=head.size,
        etag=head.etag,
        version_id=head.version_id,
        content_type=head.content_type,
        metadata={PROFILE_METADATA_KEY: "unknown"},
    )
    single = _single(store)
    # When the single mode plans and delivers it
    outcome = single.deliver(single.plan(upload, head), _made(0.9))
    # Then the built-in profile serves it: one PUT, the result as returned at the source key plus its
    # extension, nothing under masters/, no variant fields in its metadata
    [(bucket, key, content_type, metadata)] = store.puts[-1:]
    assert (outcome.status, outcome.output_key) == (Status.DONE, "shoes/red.jpg.png")
    assert [put[1] for put in store.puts if put[0] == OUTPUT] == ["shoes/red.jpg.png"]
    assert (bucket, content_type) == (OUTPUT, "image/png")
    assert store.objects[(OUTPUT, key)].data == image_bytes(400, 300, "PNG", "RGBA")
    assert not {"profile", "variant", "variant-digest", "master-key"} & set(metadata)
    assert outcome.profile is None
    assert outcome.master_key is None
