"""The review page's safety rules, in process (Starlette's TestClient, a fake S3): no decision by a
crafted link or without the session's token, only the names it serves, AWS errors as sentences."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

with warnings.catch_warnings():  # Starlette 1.x prefers "httpx2"; the pinned httpx is the one we ship
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

from cutout_tools.review_page.app import TOKEN_HEADER, PageSettings, ReviewTarget, review_app
from cutout_tools.review_page.serve import is_loopback

TOKEN = "the-session-token"
DECISION = {
    "action": "approve",
    "uploads": [{"key": "review/site/a.jpg.png", "seen": {"review/site/a.jpg.png": '"e1"'}}],
}


class FakeS3:
    """Just enough of an S3 client: ``held`` review/ objects (key → metadata), or ``error`` on every call."""

    def __init__(self, held: dict[str, dict[str, str]] | None = None, error: Exception | None = None) -> None:
        self.held = dict(held or {})
        self.error = error
        self.calls: list[str] = []

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.error is not None:
            raise self.error

    def get_paginator(self, _name: str) -> FakeS3:
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        self._call("list_objects_v2")
        when = datetime(2026, 1, 1, tzinfo=UTC)
        return [
            {
                "Contents": [
                    {"Key": key, "ETag": '"e1"', "Size": 10, "LastModified": when} for key in self.held
                ]
            }
        ]

    def head_object(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self._call("head_object")
        if Key not in self.held:
            raise ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {"Metadata": self.held[Key], "ETag": '"e1"', "ContentLength": 10, "ContentType": "image/png"}

    def generate_presigned_url(self, _operation: str, Params: dict[str, str], ExpiresIn: int) -> str:  # noqa: N803
        return f"https://s3.example/{Params['Bucket']}/{Params['Key']}?X-Amz-Expires={ExpiresIn}"

    def copy_object(self, **_: Any) -> None:
        self._call("copy_object")

    def delete_object(self, **_: Any) -> None:
        self._call("delete_object")


def client(s3: FakeS3, **settings: Any) -> TestClient:
    target = ReviewTarget(s3, "out", None, "stack 'test'")
    app = review_app(target, PageSettings(token=TOKEN, undo_seconds=0, **settings))
    return TestClient(app, base_url="http://127.0.0.1:4598")


def post(test: TestClient, body: object = DECISION, **headers: str) -> Any:
    sent = {"Content-Type": "application/json", TOKEN_HEADER: TOKEN, **headers}
    return test.post("/decisions", content=json.dumps(body), headers=sent)


def test_the_page_carries_the_session_token_and_is_never_cached() -> None:
    # Given the app on an empty output bucket
    test = client(FakeS3())
    # When the page is loaded
    page = test.get("/")
    # Then it says nothing is held, carries the token for its decisions, and forbids caching and framing
    assert page.status_code == 200
    assert "Nothing is held" in page.text
    assert f'<meta name="cutout-token" content="{TOKEN}">' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"


def test_every_session_has_its_own_token() -> None:
    # Given two apps started with the default settings
    first, second = PageSettings(), PageSettings()
    # Then their tokens differ and are long enough not to be guessed
    assert first.token != second.token
    assert len(first.token) >= 40


@pytest.mark.parametrize("path", ["/decisions", "/decisions?action=approve&key=review/site/a.jpg.png"])
def test_a_link_cannot_decide(path: str) -> None:
    # Given a held upload
    s3 = FakeS3({"review/site/a.jpg.png": {"variant": "site", "source-key": "a.jpg"}})
    # When a crafted link to the decision endpoint is followed (a GET)
    answer = client(s3).get(path)
    # Then it is refused, and nothing was copied or deleted
    assert answer.status_code == 405
    assert not {"copy_object", "delete_object"} & set(s3.calls)


@pytest.mark.parametrize(
    ("headers", "status", "sentence"),
    [
        ({TOKEN_HEADER: ""}, 403, "does not carry this session's token"),
        ({TOKEN_HEADER: "a-token-from-another-session"}, 403, "does not carry this session's token"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "JSON sent by the review page"),
        ({"Content-Type": "text/plain"}, 415, "JSON sent by the review page"),
        ({"Origin": "https://evil.example"}, 403, "another site (https://evil.example)"),
    ],
)
def test_a_post_without_the_token_as_json_from_the_page_decides_nothing(
    headers: dict[str, str], status: int, sentence: str
) -> None:
    # Given a held upload
    s3 = FakeS3({"review/site/a.jpg.png": {"variant": "site", "source-key": "a.jpg"}})
    # When a decision comes without the token, not as JSON, or from another site
    answer = post(client(s3), **headers)
    # Then it is refused with a sentence, before S3 is touched
    assert answer.status_code == status
    assert sentence in answer.json()["error"]
    assert s3.calls == []


def test_the_pages_own_origin_with_the_token_reaches_the_decision() -> None:
    # Given no held upload at that key
    s3 = FakeS3()
    # When the page's own origin posts a decision with the token
    answer = post(client(s3), Origin="http://127.0.0.1:4598")
    # Then it is made (and refused as stale: the upload is gone), not refused as a forgery
    assert answer.status_code == 200
    (result,) = answer.json()["results"]
    assert result["outcome"] == "stale"
    assert "Already decided elsewhere" in result["message"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"action": "publish", "uploads": DECISION["uploads"]},
        {"action": "approve", "uploads": []},
        {"action": "approve", "uploads": [{"key": "review/a.png"}]},
        {"action": "approve", "uploads": [{"key": "review/a.png", "seen": {"review/a.png": 1}}]},
        {"action": "approve", "uploads": ["review/a.png"]},
        {"action": "approve", "uploads": DECISION["uploads"] * 501},
    ],
)
def test_a_malformed_decision_is_refused_with_what_is_expected(body: object) -> None:
    # Given the app
    s3 = FakeS3()
    # When a decision is not of the expected shape (or names more than 500 uploads)
    answer = post(client(s3), body)
    # Then it is refused, saying what a decision is, and S3 is not touched
    assert answer.status_code == 400
    assert '"action": "approve" or "reject"' in answer.json()["error"]
    assert s3.calls == []


def test_a_decision_of_500_uploads_is_accepted() -> None:
    # Given the app (nothing held: each upload is refused as stale, one by one)
    s3 = FakeS3()
    # When 500 uploads are decided at once (the limit)
    answer = post(client(s3), {"action": "reject", "uploads": DECISION["uploads"] * 500})
    # Then each got its answer
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == 500


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.example", "192.168.1.10"])
def test_only_the_names_it_was_started_for_are_served(host: str) -> None:
    # Given the app on loopback (the default)
    test = client(FakeS3())
    # When a request names another host (a DNS-rebinding page, another interface)
    answer = test.get("/", headers={"Host": host})
    # Then it is refused
    assert answer.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:4598", "localhost:4598", "[::1]:4598"])
def test_loopback_names_are_served(host: str) -> None:
    # Given the app on loopback
    test = client(FakeS3())
    # When the page is asked for by a loopback name
    answer = test.get("/", headers={"Host": host})
    # Then it is served
    assert answer.status_code == 200


def test_a_host_given_on_the_command_line_is_served() -> None:
    # Given the app started for a named host
    test = client(FakeS3(), allowed_hosts=("127.0.0.1", "review.internal"))
    # When the page is asked for by that name
    answer = test.get("/", headers={"Host": "review.internal:4598"})
    # Then it is served
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "ListObjectsV2"),
            "AWS refused (AccessDenied): Access Denied",
        ),
        (NoCredentialsError(), "no AWS credentials found"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "cannot reach http://127.0.0.1:1"),
    ],
)
def test_an_aws_error_shows_as_a_sentence_not_a_traceback(error: Exception, sentence: str) -> None:
    # Given S3 failing on every call
    test = client(FakeS3(error=error))
    # When the page is loaded
    page = test.get("/")
    # Then it says what went wrong in a sentence, with no traceback
    assert page.status_code == 502
    assert sentence in page.text
    assert "Traceback" not in page.text
    assert 'role="alert"' in page.text


def test_an_aws_error_during_a_decision_is_the_cards_sentence() -> None:
    # Given S3 refusing every call
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "HeadObject")
    test = client(FakeS3(error=denied))
    # When a decision is posted
    answer = post(test)
    # Then the answer is an error with AWS's sentence
    (result,) = answer.json()["results"]
    assert result["outcome"] == "error"
    assert result["message"] == "AWS refused (AccessDenied): Access Denied"


def test_a_bug_is_reported_without_its_traceback_on_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    # Given S3 failing with an error no operator can act on (a bug)
    test = client(FakeS3(error=ZeroDivisionError("boom")))
    # When the page is loaded
    page = test.get("/")
    # Then the page names the error's kind and points at the terminal, where the traceback is
    assert "unexpected error (ZeroDivisionError)" in page.text
    assert "Traceback" not in page.text
    assert "Traceback" in capsys.readouterr().err


def test_only_the_pages_own_files_are_static() -> None:
    # Given the app
    test = client(FakeS3())
    # When its stylesheet, its script and another name are asked for
    css, script, other = (test.get(f"/static/{name}") for name in ("cutout.css", "review.js", "..%2Fapp.py"))
    # Then the two are served, and nothing else
    assert (css.status_code, script.status_code, other.status_code) == (200, 200, 404)
    assert css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104 - a host name under test, nothing is bound
        ("::", False),
        ("192.168.1.10", False),
        ("review.internal", False),
    ],
)
def test_loopback_is_told_apart(host: str, loopback: bool) -> None:
    # Then only loopback addresses count as loopback (anything else gets the warning)
    assert is_loopback(host) is loopback


def test_warming_up_reads_every_held_object_once_and_the_page_reads_none_again() -> None:
    # Given one held upload of three variants
    held = {
        f"review/{variant}/shoes/a.jpg.png": {
            "variant": variant,
            "source-key": "shoes/a.jpg",
            "source-bucket": "in",
        }
        for variant in ("site", "thumb", "zoom")
    }
    s3 = FakeS3(held)
    test = client(s3)
    # When the queue is warmed up (as `cutout review serve` does at start), then the page is loaded
    test.app.state.queue.warm().join(timeout=30)
    heads_after_warm_up = s3.calls.count("head_object")
    page = test.get("/")
    # Then each held object was HEADed once, by the warm-up; the page HEADed only its original and master
    assert heads_after_warm_up == 3
    assert s3.calls.count("head_object") == 3 + 2
    assert page.text.count('data-variant="') == 3
