"""Fault injection: every fault kind, the seeded RNG, and run-time reconfiguration."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from cutout_tools.emulator import AidgeEmulator, FaultPlan
from tests.functional.aidge_testkit import (
    KEY_NAME,
    KEY_SECRET,
    FakeCutoutEngine,
    b64,
    open_image,
    product_photo,
    signed_params,
)
from tests.functional.conftest import ResultHostOnLoopback

BODY = {"imageBase64": b64(product_photo()), "backGroundType": "TRANSPARENT"}


@pytest.fixture
def engine() -> FakeCutoutEngine:
    return FakeCutoutEngine()


def emulator_with(engine: FakeCutoutEngine, *faults: str, **options: float) -> AidgeEmulator:
    return AidgeEmulator(
        key_name=KEY_NAME,
        key_secret=KEY_SECRET,
        engine=engine,
        faults=FaultPlan.parse(faults),
        seed=7,
        **options,  # type: ignore[arg-type]
    )


def post(emulator: AidgeEmulator, *, timeout: float = 30) -> httpx.Response:
    return httpx.post(emulator.api_url, params=signed_params(), json=BODY, timeout=timeout, trust_env=False)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (500, "system error"),
        (501, "rate limit exceed"),
        (700, "invalid input"),
        (801, "model failed"),
        (1000, "content has sensitive data, please try other input"),
        (1001, "content control failed, please retry"),
        (1002, "content risk filter failed, please contact us"),
    ],
)
def test_an_error_code_fault_answers_that_envelope(engine: FakeCutoutEngine, code: int, message: str) -> None:
    # Given an emulator that always plays this error code
    with emulator_with(engine, f"{code}:1") as emulator:
        # When a valid call is sent
        response = post(emulator)
        # Then the answer is HTTP 200 with that error envelope; nothing ran, nothing was billed
        assert response.status_code == 200
        envelope = response.json()
        assert (envelope["success"], envelope["resCode"]) == (False, code)
        assert envelope["resMessage"].startswith(message)
        assert envelope["requestId"]
        assert engine.calls == []
        stats = emulator.stats()
        assert (stats["calls"], stats["billed"], stats["faults"]) == (1, 0, {str(code): 1})


def test_a_malformed_fault_answers_200_with_a_body_that_is_not_json(engine: FakeCutoutEngine) -> None:
    # Given an emulator that always answers malformed bodies
    with emulator_with(engine, "malformed:1") as emulator:
        # When a valid call is sent
        response = post(emulator)
        # Then the status is 200 but the body does not parse; the call was billed (the work was done
        # and the answer garbled on the way back, as the real service would bill it), and undelivered
        assert response.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
        stats = emulator.stats()
        assert (stats["billed"], stats["undelivered"], stats["faults"]) == (
            1,
            {"malformed": 1},
            {"malformed": 1},
        )


def test_a_timeout_fault_holds_the_call_until_the_client_gives_up(engine: FakeCutoutEngine) -> None:
    # Given an emulator whose timeout fault holds calls for a minute
    with emulator_with(engine, "timeout:1", timeout_seconds=60) as emulator:
        # When a client that waits half a second calls it
        # Then the client times out reading; the call was billed and its answer never delivered
        with pytest.raises(httpx.ReadTimeout):
            post(emulator, timeout=0.5)
        stats = emulator.stats()
        assert (stats["billed"], stats["undelivered"], stats["faults"]) == (1, {"timeout": 1}, {"timeout": 1})
    # (and leaving the with-block stops the server although a held request may still be waiting)


def test_a_timeout_fault_drops_the_connection_after_the_hold_time(engine: FakeCutoutEngine) -> None:
    # Given an emulator whose timeout fault holds calls for a fifth of a second
    with emulator_with(engine, "timeout:1", timeout_seconds=0.2) as emulator:
        # When a patient client calls it
        # Then the server closes the connection without any answer
        with pytest.raises(httpx.RemoteProtocolError):
            post(emulator, timeout=30)
        assert engine.calls == []


def test_a_result404_fault_is_billed_and_its_result_appears_on_the_second_get(
    engine: FakeCutoutEngine,
) -> None:
    # Given an emulator whose results are not yet visible on their first GET
    with emulator_with(engine, "result404:1") as emulator:
        # When a call succeeds and its result is fetched twice
        envelope = post(emulator).json()
        with httpx.Client(trust_env=False, transport=ResultHostOnLoopback()) as http:
            first = http.get(envelope["data"]["imageUrl"])
            second = http.get(envelope["data"]["imageUrl"])
        # Then the call was billed once, the first GET is 404 and the second serves the image
        assert envelope["resCode"] == 200
        assert (first.status_code, second.status_code) == (404, 200)
        assert open_image(second.content).size == (400, 300)
        stats = emulator.stats()
        assert (stats["billed"], stats["result_fetches"], stats["result_not_found"]) == (1, 2, 1)
        assert stats["faults"] == {"result404": 1}


def test_a_result404_fault_does_not_apply_to_a_rejected_call(engine: FakeCutoutEngine) -> None:
    # Given an emulator that would hide every result on its first GET
    with emulator_with(engine, "result404:1") as emulator:
        # When an invalid call is sent
        response = httpx.post(
            emulator.api_url, params=signed_params(), json={"backGroundType": "TRANSPARENT"}, trust_env=False
        )
        # Then it is the plain 700, and no fault is counted
        assert response.json()["resCode"] == 700
        assert emulator.stats()["faults"] == {}


def _codes(emulator: AidgeEmulator, count: int) -> Iterator[int]:
    with httpx.Client(trust_env=False, timeout=30) as http:
        for _ in range(count):
            yield http.post(emulator.api_url, params=signed_params(), json=BODY).json()["resCode"]


def test_the_same_seed_replays_the_same_faults(engine: FakeCutoutEngine) -> None:
    # Given two emulators with the same seed and a 50 % fault plan
    with (
        emulator_with(engine, "500:0.3", "501:0.2") as first,
        emulator_with(engine, "500:0.3", "501:0.2") as second,
    ):
        # When each gets twenty calls
        first_codes = list(_codes(first, 20))
        second_codes = list(_codes(second, 20))
        # Then both played the same faults, a mix of successes and both errors
        assert first_codes == second_codes
        assert {200, 500, 501} == set(first_codes)
        # And a reset replays the sequence from the start
        first.reset()
        assert list(_codes(first, 20)) == first_codes


def test_faults_and_latency_change_at_run_time(engine: FakeCutoutEngine) -> None:
    # Given an emulator without faults
    with emulator_with(engine) as emulator, httpx.Client(trust_env=False, timeout=30) as http:
        config_url = f"{emulator.url}/_emulator/config"
        # When the configuration endpoint sets a certain 1000 fault and some latency
        changed = http.post(config_url, json={"faults": ["1000:1"], "latency_ms": 5})
        during = post(emulator).json()["resCode"]
        # And then clears the faults again
        http.post(config_url, json={"faults": []})
        after = post(emulator).json()["resCode"]
        # Then the change applied to the next calls only while it was set
        assert changed.status_code == 200
        assert changed.json()["faults"] == ["1000:1"]
        assert changed.json()["latency_ms"] == 5
        assert (during, after) == (1000, 200)
        assert http.get(config_url).json()["latency_ms"] == 5


@pytest.mark.parametrize(
    "change",
    [{"faults": ["teapot:1"]}, {"faults": ["500:0.7", "501:0.7"]}, {"latency_ms": -1}, {"colour": "red"}, []],
)
def test_a_bad_configuration_is_refused_and_changes_nothing(engine: FakeCutoutEngine, change: object) -> None:
    # Given an emulator playing 500 always
    with emulator_with(engine, "500:1") as emulator:
        # When a bad configuration is posted
        response = httpx.post(f"{emulator.url}/_emulator/config", json=change, trust_env=False)
        # Then it is a 400 with a reason and the plan is unchanged
        assert response.status_code == 400
        assert response.json()["error"]
        assert emulator.config()["faults"] == ["500:1"]


@pytest.mark.parametrize(
    ("specs", "error"),
    [
        (["teapot:0.1"], "unknown fault kind"),
        (["500"], "KIND:PROBABILITY"),
        (["500:lots"], "not a number"),
        (["500:1.5"], "between 0 and 1"),
        (["500:0.6", "timeout:0.6"], "sum to at most 1"),
    ],
)
def test_a_bad_fault_plan_is_refused(specs: list[str], error: str) -> None:
    # Given a bad fault specification
    # When it is parsed
    # Then it raises a ValueError saying why
    with pytest.raises(ValueError, match=error):
        FaultPlan.parse(specs)


def test_a_fault_plan_accepts_comma_separated_entries() -> None:
    # Given two faults in one string and one in another
    # When they are parsed
    plan = FaultPlan.parse(["500:0.1,timeout:0.05", "RESULT404:0.2"])
    # Then the plan has all three
    assert plan.to_specs() == ["500:0.1", "timeout:0.05", "result404:0.2"]
