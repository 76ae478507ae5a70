"""AidgeClient.submit: the signed request, the receipt, retries and the deadline (MockTransport)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cutout.engine.aidge import AidgeClient, request_body
from cutout.engine.aidge.answer_times import AnswerTimes
from cutout.engine.aidge.client import encoded_request_body
from cutout.engine.aidge.signing import sign
from cutout.engine.errors import EngineError
from cutout.engine.port import (
    Background,
    CutoutOptions,
    ImageBytes,
    ImageUrl,
    ResumableBackgroundRemover,
)
from tests.unit.engine.aidge_doubles import (
    APP_KEY,
    APP_SECRET,
    RESULT_URL,
    FakeServers,
    FakeTime,
    failure_envelope,
    image_bytes,
    json_response,
    success_envelope,
)

SOURCE_URL = "https://input-bucket.s3.amazonaws.com/in.jpg?X-Amz-Signature=presigned"
MakeClient = Callable[..., AidgeClient]


@pytest.fixture
def ticking_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall time that moves 1 s per reading, so each signature gets its own timestamp."""
    ticks = iter(range(1719383457, 1719383457 + 1000))
    monkeypatch.setattr("cutout.engine.aidge.signing.time.time", lambda: float(next(ticks)))


def test_submit_sends_a_signed_json_post(make_client: MakeClient) -> None:
    # Given an Aidge API that succeeds
    servers = FakeServers(api_answers=[json_response(success_envelope())])
    client = make_client(servers)
    # When submitting an image by URL
    client.submit(ImageUrl(SOURCE_URL), CutoutOptions(background=Background.WHITE))
    # Then one POST went to the documented endpoint with the six signed parameters and a JSON body
    (request,) = servers.api_requests
    assert request.method == "POST"
    assert f"{request.url.scheme}://{request.url.host}{request.url.path}" == (
        "https://api.aidc-ai.com/rest/ai/image/cut/out"
    )
    params = dict(request.url.params)
    assert set(params) == {"partner_id", "sign_method", "sign_ver", "app_key", "timestamp", "sign"}
    assert (params["partner_id"], params["sign_method"], params["sign_ver"]) == ("aidge", "sha256", "v2")
    assert params["app_key"] == APP_KEY
    assert params["timestamp"].isdigit()
    assert len(params["timestamp"]) == 13
    assert params["sign"] == sign(APP_SECRET, params["timestamp"])
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-iop-trial"] == "false"  # as Aidge's public examples always send it
    assert json.loads(request.content) == {"backGroundType": "WHITE_BACKGROUND", "imageUrl": SOURCE_URL}


@pytest.mark.parametrize(
    ("source", "options", "expected"),
    [
        (
            ImageUrl("https://in/x.jpg"),
            CutoutOptions(),
            {"backGroundType": "TRANSPARENT", "imageUrl": "https://in/x.jpg"},
        ),
        (
            ImageBytes(b"\x89PNG fake"),
            CutoutOptions(background=Background.WHITE, target_width=800, target_height=1000),
            {
                "backGroundType": "WHITE_BACKGROUND",
                "imageBase64": base64.b64encode(b"\x89PNG fake").decode(),
                "targetWidth": 800,
                "targetHeight": 1000,
            },
        ),
        (
            ImageBytes(b"abc"),
            CutoutOptions(target_width=100),
            {"backGroundType": "TRANSPARENT", "imageBase64": "YWJj", "targetWidth": 100},
        ),
    ],
)
def test_body_shapes(source: ImageUrl | ImageBytes, options: CutoutOptions, expected: dict[str, Any]) -> None:
    # Given a source and options
    # When building the request body
    body = request_body(source, options)
    # Then it is the documented JSON shape (bytes as base64, optional sizes only when set)
    assert body == expected


def test_trial_header_is_sent_when_configured(make_client: MakeClient) -> None:
    # Given a client configured to use the trial quota
    servers = FakeServers(api_answers=[json_response(success_envelope())])
    client = make_client(servers, trial=True)
    # When submitting
    client.submit(ImageBytes(b"img"), CutoutOptions())
    # Then the call carries x-iop-trial: true
    assert servers.api_requests[0].headers["x-iop-trial"] == "true"


def test_receipt_records_the_paid_result(make_client: MakeClient) -> None:
    # Given the sample success of the API reference
    servers = FakeServers(api_answers=[json_response(success_envelope(width=800, height=1000))])
    client = make_client(servers)
    # When submitting
    receipt = client.submit(ImageUrl(SOURCE_URL), CutoutOptions(background=Background.WHITE))
    # Then the receipt says where the result is and what it is, and survives JSON
    assert receipt.to_dict() == {
        "engine": "aidge",
        "result_url": RESULT_URL,
        "width": 800,
        "height": 1000,
        "expires_at": 2719383457,  # the signed URL's own Expires
        "score": 0.88,
        "usage": 1,
        "request_id": "2101364217193834573077250e647d",
        "background": Background.WHITE,
    }
    assert type(receipt).from_dict(json.loads(json.dumps(receipt.to_dict()))) == receipt
    assert RESULT_URL not in repr(receipt)


def test_retryable_errors_are_retried_with_fresh_signatures(
    make_client: MakeClient, fake_time: FakeTime, ticking_wall_clock: None
) -> None:
    # Given an API that fails twice in retryable ways, then succeeds
    servers = FakeServers(
        api_answers=[
            json_response(failure_envelope(500, "system error")),
            httpx.ConnectError("[Errno 111] Connection refused"),
            json_response(success_envelope()),
        ]
    )
    client = make_client(servers, random_value=1.0)
    # When submitting
    receipt = client.submit(ImageUrl(SOURCE_URL), CutoutOptions())
    # Then it succeeded on the third attempt, after capped exponential waits, each attempt freshly signed
    assert receipt.result_url == RESULT_URL
    assert len(servers.api_requests) == 3
    assert fake_time.sleeps == [0.5, 1.0]
    timestamps = [r.url.params["timestamp"] for r in servers.api_requests]
    assert len(set(timestamps)) == 3
    assert all(
        r.url.params["sign"] == sign(APP_SECRET, r.url.params["timestamp"]) for r in servers.api_requests
    )


@pytest.mark.parametrize(
    "answer",
    [
        json_response(failure_envelope(700, "invalid input: imageUrl")),
        json_response(failure_envelope(1000, "content has sensitive data")),
        json_response(failure_envelope(1002, "content risk filter failed")),
        httpx.Response(403, content=b"Forbidden"),
        json_response(failure_envelope(9999, "The calling resources have been exhausted")),
    ],
)
def test_permanent_errors_are_never_retried(
    make_client: MakeClient, fake_time: FakeTime, answer: httpx.Response
) -> None:
    # Given an API that answers a permanent error
    servers = FakeServers(api_answers=[answer])
    client = make_client(servers)
    # When submitting
    with pytest.raises(EngineError) as caught:
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions())
    # Then exactly one call was made, no wait, and the error is permanent
    assert len(servers.api_requests) == 1
    assert fake_time.sleeps == []
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("answer", "attempts", "code"),
    [
        (json_response(failure_envelope(500)), 4, "aidge_500"),
        (json_response(failure_envelope(801)), 2, "aidge_801"),
        (json_response(failure_envelope(1001)), 2, "aidge_1001"),
        (httpx.ConnectTimeout("timed out"), 3, "engine_timeout"),
        (httpx.ReadTimeout("timed out"), 1, "engine_answer_lost"),  # possibly billed: never re-sent
        (httpx.Response(200, content=b"not json"), 1, "engine_answer_lost"),  # possibly billed
        (httpx.Response(504, content=b"Gateway Timeout"), 1, "engine_answer_lost"),  # sent, possibly billed
        (json_response({**success_envelope(), "success": False}), 2, "aidge_malformed_response"),
    ],
)
def test_retry_budget_per_code_then_the_last_error(
    make_client: MakeClient, answer: httpx.Response | Exception, attempts: int, code: str
) -> None:
    # Given an API that keeps failing the same retryable way
    servers = FakeServers(api_answers=[answer])
    client = make_client(servers, random_value=0.1)
    # When submitting
    with pytest.raises(EngineError) as caught:
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions())
    # Then the code's attempt budget was used, and the last error is raised
    assert len(servers.api_requests) == attempts
    assert caught.value.code == code


def test_retries_stop_at_the_callers_deadline(make_client: MakeClient, fake_time: FakeTime) -> None:
    # Given an API that keeps answering 500, and a caller with 1.2 s left
    servers = FakeServers(api_answers=[json_response(failure_envelope(500))])
    client = make_client(servers, random_value=1.0, min_call_seconds=0)
    # When submitting
    with pytest.raises(EngineError) as caught:
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions(), deadline=fake_time.now + 1.2)
    # Then it waited 0.5 s once; the next 1 s wait would pass the deadline, so the last error is raised
    assert fake_time.sleeps == [0.5]
    assert len(servers.api_requests) == 2
    assert caught.value.code == "aidge_500"


def test_retries_stop_at_the_configured_deadline(make_client: MakeClient, fake_time: FakeTime) -> None:
    # Given a config deadline of 1.2 s and a caller deadline far away
    servers = FakeServers(api_answers=[json_response(failure_envelope(500))])
    client = make_client(servers, random_value=1.0, min_call_seconds=0, call_deadline_seconds=1.2)
    # When submitting
    with pytest.raises(EngineError):
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions(), deadline=fake_time.now + 600)
    # Then the earlier (configured) deadline wins
    assert fake_time.sleeps == [0.5]


def test_no_paid_call_is_started_without_time_to_finish_it(
    make_client: MakeClient, fake_time: FakeTime
) -> None:
    # Given a caller with less time left than the minimum a call needs
    servers = FakeServers(api_answers=[json_response(success_envelope())])
    client = make_client(servers, min_call_seconds=5)
    # When submitting
    with pytest.raises(EngineError) as caught:
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions(), deadline=fake_time.now + 4)
    # Then nothing was called (nothing paid), and the error says the call was deferred (retryable)
    assert servers.api_requests == []
    assert (caught.value.code, caught.value.retryable) == ("paid_call_deferred", True)


def test_attempt_timeouts_never_outlast_the_deadline(make_client: MakeClient, fake_time: FakeTime) -> None:
    # Given a caller with 10 s left (the read timeout is 30 s)
    servers = FakeServers(api_answers=[json_response(success_envelope())])
    client = make_client(servers)
    # When submitting
    client.submit(ImageUrl(SOURCE_URL), CutoutOptions(), deadline=fake_time.now + 10)
    # Then the request's timeouts are cut to the time left
    timeout = servers.api_requests[0].extensions["timeout"]
    assert timeout == {"connect": 3.0, "read": 10.0, "write": 10.0, "pool": 3.0}


def slow_answers(fake_time: FakeTime, seconds: float) -> Callable[[httpx.Request], httpx.Response]:
    """An API whose answers take ``seconds`` (on the fake clock)."""

    def answer(request: httpx.Request) -> httpx.Response:
        fake_time.now += seconds
        return json_response(success_envelope())

    return answer


def test_the_answer_budget_follows_the_observed_latency(make_client: MakeClient, fake_time: FakeTime) -> None:
    # Given an API whose answers have taken 12 s each, seen by this process
    answer_times = AnswerTimes()
    servers = FakeServers(api_answers=[slow_answers(fake_time, 12.0)] * 3)
    client = make_client(servers, answer_times=answer_times, min_call_seconds=5)
    for _ in range(3):
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions())
    # When a caller has 15 s left: more than the floor, less than what the answers have needed
    with pytest.raises(EngineError) as caught:
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions(), deadline=fake_time.now + 15)
    # Then the paid call is not started (nothing sent, nothing billed): it is deferred to a redelivery
    assert len(servers.api_requests) == 3
    assert caught.value.code == "paid_call_deferred"
    assert client.answer_budget_seconds() == pytest.approx(18.0)  # 12 s x 1.5 headroom


def test_a_sent_call_keeps_the_read_budget_it_reserved(make_client: MakeClient, fake_time: FakeTime) -> None:
    # Given answers that took 8 s (budget 12 s), and a caller with 13 s left
    answer_times = AnswerTimes()
    answer_times.observe(8.0)
    servers = FakeServers(api_answers=[json_response(success_envelope())])
    client = make_client(servers, answer_times=answer_times, min_call_seconds=1)
    # When submitting
    client.submit(ImageUrl(SOURCE_URL), CutoutOptions(), deadline=fake_time.now + 13)
    # Then the read may use all the time left, and never less than the budget
    timeout = servers.api_requests[0].extensions["timeout"]
    assert timeout["read"] == 13.0
    assert timeout["read"] >= client.answer_budget_seconds()


def test_the_budget_has_a_floor_and_a_ceiling() -> None:
    # Given no answer seen yet, then one answer far slower than the read timeout
    times = AnswerTimes()
    # Then an unseen API gets the floor, and a slow one never more than the read timeout
    assert times.budget(5.0, 60.0) == 5.0
    times.observe(100.0)
    assert times.budget(5.0, 60.0) == 60.0


def echo_the_signature(request: httpx.Request) -> httpx.Response:
    """A misbehaving API that echoes the signature and the URL back in its message."""
    message = f"bad sign {request.url.params['sign']} for {request.url}"
    return json_response(failure_envelope(700, message))


@pytest.mark.parametrize(
    "answer",
    [
        echo_the_signature,
        json_response(failure_envelope(4242, f"secret was {APP_SECRET}")),
        httpx.ConnectError("failed"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(500, content=b"oops"),
        httpx.Response(200, content=b"<html>"),
    ],
)
def test_no_error_text_holds_the_secret_the_sign_or_the_query(
    make_client: MakeClient, answer: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
) -> None:
    # Given an API failing in some way, possibly echoing what it was sent
    servers = FakeServers(api_answers=[answer])
    client = make_client(servers)
    # When the call fails
    with pytest.raises(EngineError) as caught:
        client.submit(ImageUrl(SOURCE_URL), CutoutOptions())
    # Then no text of the error holds the secret, a signature or the signed query
    error = caught.value
    texts = [str(error), repr(error), json.dumps(error.to_dict()), *map(str, error.args)]
    signs = {r.url.params["sign"] for r in servers.api_requests}
    for text in texts:
        assert APP_SECRET not in text
        assert all(s not in text for s in signs)
        assert "sign=" not in text
    assert error.__cause__ is None or APP_SECRET not in str(error.__cause__)


def test_client_is_the_resumable_engine_port(make_client: MakeClient) -> None:
    # Given a client
    client = make_client(FakeServers(api_answers=[json_response(success_envelope())]))
    # When checking it against the port
    # Then it is a ResumableBackgroundRemover named "aidge", and its repr holds no secret
    assert isinstance(client, ResumableBackgroundRemover)
    assert client.engine_name == "aidge"
    assert APP_SECRET not in repr(client)


def test_context_manager_closes_the_http_client(make_client: MakeClient) -> None:
    # Given a client used as a context manager
    servers = FakeServers(api_answers=[json_response(success_envelope())])
    with make_client(servers) as client:
        client.submit(ImageBytes(image_bytes()), CutoutOptions())
    # When using it after the block
    # Then its one HTTP client is closed
    with pytest.raises(RuntimeError, match="closed"):
        client.submit(ImageBytes(image_bytes()), CutoutOptions())


def test_the_request_body_is_encoded_once_as_the_bytes_sent() -> None:
    # Given an image passed by value and target sizes
    source, options = ImageBytes(b"\x00\xffimage bytes"), CutoutOptions(target_width=120, target_height=130)
    # When the body is encoded
    body = encoded_request_body(source, options)
    # Then it is one JSON object with every field, the image as base64
    assert json.loads(body) == {
        "backGroundType": "TRANSPARENT",
        "targetWidth": 120,
        "targetHeight": 130,
        "imageBase64": base64.b64encode(source.data).decode("ascii"),
    }
