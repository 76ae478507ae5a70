"""Start-up checks that fail Init with a clear sentence, so nothing is paid (issue 24, item 6).

Real botocore clients: one built from this machine's S3 model, one from a copy of it without the
conditional-write parameters (what an older runtime has); SSM and Lambda answered by botocore's
Stubber with the documented error codes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from cutout.startup_checks import (
    StartupCheckFailed,
    check_conditional_puts,
    run_startup_checks,
)
from tests.unit.pipeline.harness import settings

OFFLINE = {"region_name": "us-east-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"}
MAPPING_PARAMETER = "/stack/cutout/work-queue-mapping-id"
BUDGET_PARAMETER = "/stack/cutout/budget"
UUID = "14e0db71-5d35-4eb5-b481-8945cf9d10c2"


def s3_without(tmp_path: Path, *removed: str) -> Any:
    """An S3 client on a copy of botocore's S3 model without ``removed`` PutObject parameters."""
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    model = loader.load_service_model("s3", "service-2")
    shape = model["shapes"][model["operations"]["PutObject"]["input"]["shape"]]
    for name in removed:
        shape["members"].pop(name)
    version = loader.determine_latest_version("s3", "service-2")
    folder = tmp_path / "s3" / version
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    loader.search_paths.insert(0, str(tmp_path))
    return boto3.session.Session(botocore_session=session, **OFFLINE).client("s3")


def test_this_botocore_knows_conditional_puts() -> None:
    # Given an S3 client on the installed botocore; When checked; Then it passes
    check_conditional_puts(boto3.client("s3", **OFFLINE))


@pytest.mark.parametrize("removed", [("IfMatch",), ("IfNoneMatch", "IfMatch")])
def test_a_botocore_without_conditional_puts_fails_init_naming_what_is_missing(
    tmp_path: Path, removed: tuple[str, ...]
) -> None:
    # Given the S3 model of an older runtime (no IfMatch, or neither parameter)
    s3 = s3_without(tmp_path, *removed)
    # When checked at start
    with pytest.raises(StartupCheckFailed) as failed:
        check_conditional_puts(s3)
    # Then the sentence names the parameters, the botocore version and what to do
    message = str(failed.value)
    assert all(name in message for name in removed)
    assert botocore.__version__ in message
    assert "layers/cutout/requirements.txt" in message


def clients() -> tuple[Any, Any, Any]:
    return boto3.client("s3", **OFFLINE), boto3.client("ssm", **OFFLINE), boto3.client("lambda", **OFFLINE)


CONFIGURED = {"EVENT_SOURCE_MAPPING_PARAMETER": MAPPING_PARAMETER, "BUDGET_PARAMETER": BUDGET_PARAMETER}


def test_in_lambda_the_parameters_and_the_mapping_are_read_once_at_start() -> None:
    # Given a stack whose parameters and mapping exist
    s3, ssm, lambdas = clients()
    with Stubber(ssm) as ssm_stub, Stubber(lambdas) as lambda_stub:
        ssm_stub.add_response("get_parameter", {"Parameter": {"Value": UUID}}, {"Name": MAPPING_PARAMETER})
        lambda_stub.add_response(
            "get_event_source_mapping", {"UUID": UUID, "State": "Enabled"}, {"UUID": UUID}
        )
        ssm_stub.add_response(
            "get_parameter",
            {"Parameter": {"Value": '{"daily": 3, "monthly": 0}'}},
            {"Name": BUDGET_PARAMETER},
        )
        # When the checks run as in Lambda's Init
        run_startup_checks(settings(**CONFIGURED), s3=s3, ssm=ssm, lambdas=lambdas, remote=True)
        # Then each was asked exactly once
        ssm_stub.assert_no_pending_responses()
        lambda_stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            [("ssm", "ParameterNotFound")],
            f"SSM parameter {MAPPING_PARAMETER} (EVENT_SOURCE_MAPPING_PARAMETER)",
        ),
        ([("ssm", None), ("lambda", "ResourceNotFoundException")], f"event source mapping {UUID}"),
        (
            [("ssm", None), ("lambda", None), ("ssm", "AccessDeniedException")],
            f"SSM parameter {BUDGET_PARAMETER}",
        ),
        ([("ssm", None), ("lambda", None), ("ssm", "bad value")], "daily must be a whole number"),
    ],
    ids=["mapping-parameter-gone", "mapping-gone", "budget-parameter-denied", "budget-value-malformed"],
)
def test_a_missing_part_of_the_stack_fails_init_with_a_sentence_naming_it(
    answers: list[tuple[str, str | None]], expected: str
) -> None:
    # Given a stack with one part missing or wrong
    s3, ssm, lambdas = clients()
    with Stubber(ssm) as ssm_stub, Stubber(lambdas) as lambda_stub:
        for service, error in answers:
            if service == "lambda" and error is None:
                lambda_stub.add_response("get_event_source_mapping", {"UUID": UUID}, {"UUID": UUID})
            elif service == "lambda":
                lambda_stub.add_client_error(
                    "get_event_source_mapping", service_error_code=error, http_status_code=404
                )
            elif error is None:
                ssm_stub.add_response("get_parameter", {"Parameter": {"Value": UUID}})
            elif error == "bad value":
                ssm_stub.add_response("get_parameter", {"Parameter": {"Value": '{"daily": -3}'}})
            else:
                ssm_stub.add_client_error("get_parameter", service_error_code=error, http_status_code=400)
        # When the checks run at start
        with pytest.raises(StartupCheckFailed) as failed:
            run_startup_checks(settings(**CONFIGURED), s3=s3, ssm=ssm, lambdas=lambdas, remote=True)
    # Then Init fails with a sentence that names the part
    assert str(failed.value).startswith("cutout cannot start: ")
    assert expected in str(failed.value)


def test_outside_lambda_only_the_local_check_runs() -> None:
    # Given clients that would fail any call (nothing stubbed)
    s3, ssm, lambdas = clients()
    with Stubber(ssm), Stubber(lambdas):
        # When the checks run outside Lambda (tests, the local stack): no call is made
        run_startup_checks(settings(**CONFIGURED), s3=s3, ssm=ssm, lambdas=lambdas)
