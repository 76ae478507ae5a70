"""The idempotency records' keys: explicit, versioned prefixes, whatever the functions are called."""

from __future__ import annotations

import pytest

from cutout.checkpoints import OUTCOME_KEY_PREFIX
from cutout.paid_call import PAID_CALL_KEY_PREFIX
from tests.unit.pipeline.harness import build_harness


@pytest.mark.parametrize("function_name", ["cutout-prod-ProcessUpload-1A2B", "renamed-function"])
def test_record_keys_name_the_step_and_its_version_not_the_lambda_or_python_function(
    monkeypatch: pytest.MonkeyPatch, function_name: str
) -> None:
    # Given a Lambda function of this name
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
    harness = build_harness()
    upload = harness.upload("shoe.jpg")
    # When an upload is processed
    harness.process(upload)
    # Then its two records are keyed <versioned prefix>#<hash>, the same under any function name
    prefixes = sorted(key.split("#", 1)[0] for key in harness.idempotency_table)
    assert prefixes == sorted([OUTCOME_KEY_PREFIX, PAID_CALL_KEY_PREFIX])
    assert not [key for key in harness.idempotency_table if function_name in key]
    assert (OUTCOME_KEY_PREFIX, PAID_CALL_KEY_PREFIX) == ("cutout/outcome/v1", "cutout/paid-call/v1")
