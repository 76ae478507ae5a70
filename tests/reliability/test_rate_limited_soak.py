"""The throttled soak: an API account limited to 1 call a second, and nothing else wrong. Before
issue 22 such a run sent uploads to the DLQ as ``aidge_rate_limited`` (17 of 60); a rate limit is
"not now", so every upload must wait its turn and be delivered, billed once, while the pipeline
lowers its event source's concurrency. ``python bench/soak.py --rate-limit 1 --fault-rate 0
--no-permanent-faults`` runs the same at any size."""

from __future__ import annotations

import pytest
from bench.soak import describe, run_soak

UPLOADS = 30
DEPLOYED_MAX_CONCURRENCY = 5  # the template's default MaxConcurrency


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_rate_limited_api_delays_uploads_but_sends_none_to_the_dlq() -> None:
    # Given 30 uploads and an API that admits 1 call a second (the documented 501 past it): well
    # below what the template's concurrency asks, so some records are still throttled after the
    # client's own retries, however fast or slow the machine
    # When the local stack has processed them all
    result = run_soak(UPLOADS, seed=5, transient_rate=0.0, permanent_faults=False, calls_per_second=1)
    print("\n" + describe(result))

    # Then the limit really held calls back, and yet every upload was delivered, billed once, with
    # nothing on the DLQ; the event source's concurrency was lowered while it lasted
    assert result.faults.get("rate_limited", 0) > 0
    assert result.violations == []
    assert result.dlq_records == 0
    assert result.outputs == UPLOADS
    assert result.billed_calls == UPLOADS
    # (every change the function made, from its own log: a sample once a second can miss a dip)
    assert result.concurrency_changes, "the function never changed the mapping's concurrency"
    assert any(after < before for _, before, after in result.concurrency_changes)
    assert all(2 <= after <= DEPLOYED_MAX_CONCURRENCY for _, _, after in result.concurrency_changes)
