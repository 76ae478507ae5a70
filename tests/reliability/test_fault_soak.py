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
