"""The fault soak at the suite's size: 100 uploads through the local stack (template.yaml on moto,
the emulator, the real handler behind a local event source mapping) while the emulator fails 30 %
of the calls. ``make soak`` runs the same with 1000 uploads (``bench/soak.py``)."""

from __future__ import annotations

import pytest
from bench.soak import describe, run_soak

SUITE_UPLOADS = 100


@pytest.mark.slow
@pytest.mark.timeout(900)  # about 3.5 min on a quiet 2-core machine, about 6 with two busy loops beside it
def test_under_faults_every_upload_has_one_outcome_and_no_object_is_paid_twice() -> None:
    # Given 100 uploads, and an API failing 30 % of calls (500, 501, 801, 1001, timeouts,
    # malformed bodies, result 404s) plus 2 % permanent refusals (700, 1000)
    # When the local stack has processed them all
    result = run_soak(SUITE_UPLOADS, seed=11)
    print("\n" + describe(result))

    # Then the faults really happened, and the rules held with the template's default profiles (a
    # master and three variants per upload): one outcome per upload (all its outputs xor a DLQ
    # record), no output object written twice, every bill accounted for (an upload delivered, a
    # paid DLQ record or an answer the emulator could not deliver), so billed calls = object versions
    # delivered, however many variants each; a second bill only for an object whose answer was
    # undelivered, and no answer lost because the client stopped waiting (our own deadline)
    assert sum(result.faults.values()) >= 10
    assert result.api_calls > result.billed_calls
    assert result.violations == []
    assert result.outputs + result.dlq_records == result.uploads
    assert result.objects >= 4 * result.outputs  # the master and three variants of each
    assert result.object_versions == result.objects
    lost = sum(result.lost_answers.values())
    assert result.billed_calls == result.outputs + result.paid_dlq_records + lost
    assert "client_gone" not in result.lost_answers
    assert "write_failed" not in result.lost_answers


@pytest.mark.parametrize(
    ("prefixes", "violations"),
    [
        (("", "", "", ""), 0),  # published: its master and every variant
        (("", "review/", "review/", "review/"), 0),  # held: every variant under review/ (issue 26)
        (("", "", "review/", "review/"), 1),  # half published, half held: not one outcome
        (("", "", ""), 1),  # a variant missing
    ],
)
def test_a_held_upload_is_one_outcome_and_a_mixed_one_is_not(
    prefixes: tuple[str, ...], violations: int
) -> None:
    # Given the shipped profiles and one upload's stored objects
    from bench.soak import _checked

    from cutout.profiles import load_profiles
    from tests.unit.profiles.test_profiles import SHIPPED

    names = [
        "masters/shop/a.jpg.png",
        "web-transparent/shop/a.jpg.png",
        "amazon-main/shop/a.jpg.jpg",
        "listing-webp/shop/a.jpg.webp",
    ]
    stored = {
        prefix + name: [{"source-key": "shop/a.jpg"}] for prefix, name in zip(prefixes, names, strict=False)
    }
    # When the soak checks it
    stats = {"billed": 1, "calls": 1, "by_object": {}, "faults": {}}
    result = _checked(["shop/a.jpg"], [], stored, stats, 1.0, profiles=load_profiles(SHIPPED))
    # Then a held upload is one outcome, like a published one; anything in between is a violation
    outcome = [line for line in result.violations if "output object(s)" in line]
    assert len(outcome) == violations
