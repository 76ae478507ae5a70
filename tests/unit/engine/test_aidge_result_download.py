"""AidgeClient.fetch: the safe download of data.imageUrl (MockTransport and a fake DNS)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from cutout.engine.aidge import AidgeClient, AidgeConfig
from cutout.engine.errors import EngineError
from cutout.engine.port import Background, Cutout, CutoutOptions, CutoutReceipt, ImageUrl
from tests.unit.engine.aidge_doubles import (
    APP_KEY,
    APP_SECRET,
    PUBLIC_IP,
    RESULT_HOST,
    RESULT_URL,
    FakeServers,
    FakeTime,
    image_bytes,
    json_response,
    success_envelope,
)

MakeClient = Callable[..., AidgeClient]


def receipt(
    url: str = RESULT_URL,
    width: int = 200,
    height: int = 100,
    background: Background = Background.TRANSPARENT,
) -> CutoutReceipt:
    return CutoutReceipt(
        engine="aidge",
        result_url=url,
        width=width,
        height=height,
        score=0.9,
        usage=1,
        request_id="req-1",
        background=background,
    )


def image_response(data: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=data, headers={"Content-Type": "application/octet-stream"})


def redirect(location: str, status: int = 302) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


@pytest.mark.parametrize(
    ("data", "background", "expected_type"),
    [
        (image_bytes(mode="RGBA", image_format="PNG"), Background.TRANSPARENT, ("image/png", ".png")),
        (image_bytes(mode="LA", image_format="PNG"), Background.TRANSPARENT, ("image/png", ".png")),
        (image_bytes(mode="RGBA", image_format="WEBP"), Background.TRANSPARENT, ("image/webp", ".webp")),
        (image_bytes(mode="RGB", image_format="JPEG"), Background.WHITE, ("image/jpeg", ".jpg")),
        (image_bytes(mode="RGB", image_format="PNG"), Background.WHITE, ("image/png", ".png")),
    ],
)
def test_fetch_returns_the_verified_image_with_its_real_type(
    closing: Callable[[Cutout], Cutout],
    make_client: MakeClient,
    data: bytes,
    background: Background,
    expected_type: tuple[str, str],
) -> None:
    # Given a result host serving a valid image (whatever the URL's extension says)
    servers = FakeServers(result_answers=[image_response(data)])
    client = make_client(servers)
    # When fetching the receipt's result
    cutout = closing(client.fetch(receipt(background=background)))
    # Then the cutout holds those bytes with the real format's type, and the receipt's facts
    assert cutout.read() == data
    assert (cutout.content_type, cutout.extension) == expected_type
    assert cutout.size == len(data)
    assert (cutout.width, cutout.height, cutout.engine, cutout.request_id) == (200, 100, "aidge", "req-1")
    assert cutout.body.tell() == 0


def test_fetch_connects_to_the_checked_address_with_the_original_host(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a result host resolving to a public address
    servers = FakeServers(result_answers=[image_response(image_bytes())])
    client = make_client(servers, trial=True)
    # When fetching
    closing(client.fetch(receipt()))
    # Then the GET went to that address, with the original Host, TLS name and query, and no Aidge headers
    (request,) = servers.result_requests
    assert request.method == "GET"
    assert request.url.host == PUBLIC_IP
    assert request.headers["host"] == RESULT_HOST
    assert request.extensions["sni_hostname"] == RESULT_HOST
    assert request.url.params["Signature"] == "abc="
    assert "x-iop-trial" not in request.headers


def test_remove_background_is_submit_then_fetch(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given an API that succeeds and a result host serving the image
    data = image_bytes(800, 1000)
    servers = FakeServers(
        api_answers=[json_response(success_envelope(width=800, height=1000))],
        result_answers=[image_response(data)],
    )
    client = make_client(servers)
    # When removing a background in one go
    cutout = closing(client.remove_background(ImageUrl("https://in/x.jpg"), CutoutOptions()))
    # Then one paid call and one download produced the image
    assert (len(servers.api_requests), len(servers.result_requests)) == (1, 1)
    assert cutout.read() == data
    assert cutout.score == 0.88


@pytest.mark.parametrize(
    ("url", "resolver_table", "reason"),
    [
        ("https://127.0.0.1/r.png", None, "loopback"),
        ("https://10.0.0.7/r.png", None, "private"),
        ("https://172.16.0.1/r.png", None, "private"),
        ("https://192.168.1.1/r.png", None, "private"),
        ("https://169.254.169.254/latest/meta-data/", None, "link-local"),
        ("https://[::1]/r.png", None, "loopback"),
        ("https://[::ffff:127.0.0.1]/r.png", None, "IPv4-mapped"),
        ("https://2130706433/r.png", None, "non-standard form"),
        ("https://0177.0.0.1/r.png", None, "not a valid URL"),
        ("https://results.example.com/r.png", {RESULT_HOST: ["10.9.8.7"]}, "private"),
        ("https://results.example.com/r.png", {RESULT_HOST: [PUBLIC_IP, "127.0.0.1"]}, "loopback"),
    ],
)
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_unsafe_result_urls_are_refused_before_any_request(
    make_client: MakeClient, url: str, resolver_table: dict[str, list[str]] | None, reason: str, scheme: str
) -> None:
    # Given a receipt whose result URL (https, or its http variant) points somewhere unsafe
    url = url.replace("https://", f"{scheme}://", 1)
    servers = FakeServers(result_answers=[image_response(image_bytes())])
    client = make_client(servers, resolver_table=resolver_table)
    # When fetching it
    with pytest.raises(EngineError, match=reason) as caught:
        client.fetch(receipt(url=url))
    # Then it is refused for good, and nothing was requested
    assert (caught.value.code, caught.value.retryable) == ("result_url_refused", False)
    assert servers.result_requests == []


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("https://elsewhere.example.com/r.png", "another host"),
        ("https://169.254.169.254/latest/meta-data/", "another host"),
        ("https://10.0.0.1/r.png", "another host"),
        ("http://results.example.com/r.png", "plain http"),  # a downgrade, even on the same host
    ],
)
def test_redirects_away_are_refused(make_client: MakeClient, location: str, reason: str) -> None:
    # Given a result host redirecting to another host, a private address or plain http
    servers = FakeServers(result_answers=[redirect(location)])
    client = make_client(servers)
    # When fetching
    with pytest.raises(EngineError, match=reason) as caught:
        client.fetch(receipt())
    # Then the redirect is not followed
    assert caught.value.code == "result_url_refused"
    assert len(servers.result_requests) == 1


def test_redirect_on_the_same_host_is_followed_and_rechecked(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a result host redirecting (relatively) to another path on itself
    data = image_bytes()
    servers = FakeServers(result_answers=[redirect("/moved/r.png?Signature=new", 307), image_response(data)])
    client = make_client(servers)
    # When fetching
    cutout = closing(client.fetch(receipt()))
    # Then the second hop went to the new path, pinned to the checked address again
    assert cutout.read() == data
    second = servers.result_requests[1]
    assert (second.url.host, second.url.path, second.headers["host"]) == (
        PUBLIC_IP,
        "/moved/r.png",
        RESULT_HOST,
    )


def test_redirect_to_the_same_host_resolving_private_is_refused(fake_time: FakeTime) -> None:
    # Given a host that resolves publicly, then (rebinding) privately for the redirect hop
    answers = iter([[PUBLIC_IP], ["10.0.0.1"]])

    def rebinding_resolver(host: str, port: int) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in next(answers)]

    servers = FakeServers(result_answers=[redirect("/again.png"), image_response(image_bytes())])
    client = AidgeClient(
        AidgeConfig(app_key=APP_KEY, app_secret=APP_SECRET),
        transport=httpx.MockTransport(servers),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        resolver=rebinding_resolver,
    )
    # When fetching
    with client, pytest.raises(EngineError, match="private") as caught:
        client.fetch(receipt())
    # Then the second hop is refused
    assert caught.value.code == "result_url_refused"
    assert len(servers.result_requests) == 1


def test_too_many_redirects_are_refused(make_client: MakeClient) -> None:
    # Given a result host that redirects forever
    servers = FakeServers(result_answers=[redirect("/loop.png")])
    client = make_client(servers)
    # When fetching
    with pytest.raises(EngineError, match="redirects") as caught:
        client.fetch(receipt())
    # Then it gives up after the first request and three redirects
    assert caught.value.code == "result_url_refused"
    assert len(servers.result_requests) == 4


HTTP_RESULT_URL = (
    f"http://{RESULT_HOST}/data%2Fcut_0.88.png?OSSAccessKeyId=AK&Expires=2719383457&Signature=abc%3D"
)


def refusing_tls(answer: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A result host that serves plain http only: every https connection fails (TLS/connect)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number", request=request)
        return answer

    return handle


def test_policy_http_public_url_is_upgraded_to_https(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a result URL in the documented shape (plain http, OSS-signed query), on a public host
    data = image_bytes()
    servers = FakeServers(result_answers=[image_response(data)])
    client = make_client(servers)
    # When fetching it under the default policy (upgrade-then-http)
    cutout = closing(client.fetch(receipt(url=HTTP_RESULT_URL)))
    # Then the one request went over https to the checked address, same path and query, Host and SNI
    # the original host: the OSS signature does not cover the scheme
    assert cutout.read() == data
    (request,) = servers.result_requests
    assert (request.url.scheme, request.url.host, request.url.port) == ("https", PUBLIC_IP, None)
    assert request.url.raw_path == httpx.URL(HTTP_RESULT_URL).raw_path
    assert (request.headers["host"], request.extensions["sni_hostname"]) == (RESULT_HOST, RESULT_HOST)


def test_policy_upgrade_refused_falls_back_to_http(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a result host whose https fails at the TLS/connection level
    data = image_bytes()
    servers = FakeServers(result_answers=[refusing_tls(image_response(data))])
    client = make_client(servers)
    # When fetching an http result URL under upgrade-then-http
    cutout = closing(client.fetch(receipt(url=HTTP_RESULT_URL)))
    # Then https was tried first, then the same URL over plain http, still pinned to the checked address
    assert cutout.read() == data
    assert [(r.url.scheme, r.url.host) for r in servers.result_requests] == [
        ("https", PUBLIC_IP),
        ("http", PUBLIC_IP),
    ]
    assert servers.result_requests[1].headers["host"] == RESULT_HOST


def test_policy_upgrade_never_falls_back(make_client: MakeClient) -> None:
    # Given the same host, and RESULT_URL_POLICY=upgrade
    servers = FakeServers(result_answers=[refusing_tls(image_response(image_bytes()))])
    client = make_client(servers, result_url_policy="upgrade", random_value=0.0)
    # When fetching an http result URL
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt(url=HTTP_RESULT_URL))
    # Then only https was ever tried (and retried): a retryable unavailability
    assert {r.url.scheme for r in servers.result_requests} == {"https"}
    assert caught.value.code == "result_unavailable"


def test_policy_https_only_refuses_http_urls(make_client: MakeClient) -> None:
    # Given RESULT_URL_POLICY=https-only
    servers = FakeServers(result_answers=[image_response(image_bytes())])
    client = make_client(servers, result_url_policy="https-only")
    # When fetching an http result URL
    with pytest.raises(EngineError, match="https-only") as caught:
        client.fetch(receipt(url=HTTP_RESULT_URL))
    # Then it is refused for good before any request
    assert caught.value.code == "result_url_refused"
    assert servers.result_requests == []


def test_policy_an_http_answer_over_https_is_no_reason_to_fall_back(make_client: MakeClient) -> None:
    # Given a result host that answers https with 403 (a signature problem, not a TLS one)
    servers = FakeServers(result_answers=[httpx.Response(403, content=b"<Code>SignatureDoesNotMatch</Code>")])
    client = make_client(servers)
    # When fetching an http result URL
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt(url=HTTP_RESULT_URL))
    # Then plain http was never tried
    assert [r.url.scheme for r in servers.result_requests] == ["https"]
    assert caught.value.code == "result_gone"


def test_policy_redirect_to_https_on_the_same_host_is_followed(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a host that serves http only, and whose http redirects to https on the same host
    data = image_bytes()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https" and request.url.raw_path.startswith(b"/data%2F"):
            raise httpx.ConnectError("TLS handshake failed", request=request)
        if request.url.scheme == "http":
            return redirect(f"https://{RESULT_HOST}/secure/cut.png?Signature=x", 301)
        return image_response(data)

    servers = FakeServers(result_answers=[handle])
    client = make_client(servers)
    # When fetching an http result URL
    cutout = closing(client.fetch(receipt(url=HTTP_RESULT_URL)))
    # Then the redirect to https on the same host was followed (re-checked and pinned)
    assert cutout.read() == data
    last = servers.result_requests[-1]
    assert (last.url.scheme, last.url.host, last.url.path, last.headers["host"]) == (
        "https",
        PUBLIC_IP,
        "/secure/cut.png",
        RESULT_HOST,
    )


def test_policy_redirect_to_another_host_is_refused_over_http_too(make_client: MakeClient) -> None:
    # Given an http-only host that redirects elsewhere
    servers = FakeServers(result_answers=[refusing_tls(redirect("http://elsewhere.example.com/r.png"))])
    client = make_client(servers)
    # When fetching an http result URL
    with pytest.raises(EngineError, match="another host") as caught:
        client.fetch(receipt(url=HTTP_RESULT_URL))
    # Then the redirect is not followed
    assert caught.value.code == "result_url_refused"


def test_allowlisted_loopback_address_runs_the_production_policy(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given the emulator's loopback address allowlisted, and a result on an OSS-shaped host resolving to it
    data = image_bytes()
    servers = FakeServers(result_answers=[image_response(data)])
    host = "emu.oss-local-1.aliyuncs.com"
    client = make_client(servers, result_url_allowlist=("127.0.0.1",), resolver_table={host: ["127.0.0.1"]})
    # When fetching an http result URL from it
    cutout = closing(client.fetch(receipt(url=f"http://{host}:8765/r.png?Signature=1")))
    # Then the production policy ran: https first (same port), pinned to the allowlisted address
    assert cutout.read() == data
    (request,) = servers.result_requests
    assert (request.url.scheme, request.url.host, request.url.port) == ("https", "127.0.0.1", 8765)
    assert request.headers["host"] == f"{host}:8765"


def test_declared_oversize_is_refused_before_reading(make_client: MakeClient) -> None:
    # Given a result whose Content-Length is over the cap
    def stream_that_must_not_be_read() -> Iterator[bytes]:
        raise AssertionError("the body was read")
        yield b""  # pragma: no cover

    servers = FakeServers(
        result_answers=[
            lambda request: httpx.Response(
                200, headers={"Content-Length": "2048"}, content=stream_that_must_not_be_read()
            )
        ]
    )
    client = make_client(servers, result_max_bytes=1024)
    # When fetching
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt())
    # Then it is refused as too large, without retrying
    assert (caught.value.code, caught.value.retryable) == ("result_too_large", False)
    assert len(servers.result_requests) == 1


def test_undeclared_oversize_is_cut_off_while_streaming(make_client: MakeClient) -> None:
    # Given a result streamed without Content-Length, endlessly
    produced: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            produced.append(1)
            yield b"\0" * 1000

    servers = FakeServers(result_answers=[httpx.Response(200, content=endless())])
    client = make_client(servers, result_max_bytes=10_000)
    # When fetching
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt())
    # Then reading stopped just past the cap
    assert caught.value.code == "result_too_large"
    assert len(produced) <= 12


def test_large_result_spills_to_disk_and_stays_whole(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a result larger than the in-memory spool
    data = image_bytes(1200, 900, mode="RGBA")
    servers = FakeServers(result_answers=[image_response(data)])
    client = make_client(servers, result_spool_bytes=1024)
    # When fetching it
    cutout = closing(client.fetch(receipt(width=1200, height=900)))
    # Then the bytes are intact and the size counted
    assert cutout.size == len(data) > 1024
    assert cutout.read() == data


@pytest.mark.parametrize(
    ("data", "background", "code"),
    [
        (image_bytes(mode="RGB", image_format="PNG"), Background.TRANSPARENT, "result_missing_alpha"),
        (image_bytes(mode="RGB", image_format="JPEG"), Background.TRANSPARENT, "result_missing_alpha"),
        (image_bytes(mode="RGB", image_format="WEBP"), Background.TRANSPARENT, "result_missing_alpha"),
        (b"<html>AccessDenied</html>", Background.WHITE, "result_not_an_image"),
        (image_bytes(mode="RGBA", image_format="GIF"), Background.WHITE, "result_not_an_image"),
        (image_bytes(mode="RGB", image_format="BMP"), Background.WHITE, "result_not_an_image"),
        (b"", Background.WHITE, "result_not_an_image"),
    ],
)
def test_wrong_images_are_refused_for_good(
    make_client: MakeClient, data: bytes, background: Background, code: str
) -> None:
    # Given a result that is unusable (not PNG/JPEG/WebP, no alpha when transparent)
    servers = FakeServers(result_answers=[image_response(data)])
    client = make_client(servers)
    # When fetching
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt(background=background))
    # Then it is refused with the matching permanent code, without retrying
    assert (caught.value.code, caught.value.retryable) == (code, False)
    assert len(servers.result_requests) == 1


@pytest.mark.parametrize(("width", "height"), [(300, 100), (200, 101)])
def test_a_valid_image_of_another_size_is_kept_and_flagged(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient, width: int, height: int
) -> None:
    # Given a paid result that is a valid image, but not the 200x100 Aidge reported
    servers = FakeServers(result_answers=[image_response(image_bytes(width, height))])
    client = make_client(servers)
    # When fetching
    cutout = closing(client.fetch(receipt()))
    # Then it is returned (not thrown away after paying), with the reported size as a flag
    assert (cutout.width, cutout.height) == (width, height)
    assert cutout.reported_size == (200, 100)


def test_a_result_without_a_reported_size_is_not_checked_against_one(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient
) -> None:
    # Given a receipt without width/height (the reference does not promise them)
    servers = FakeServers(result_answers=[image_response(image_bytes(321, 123))])
    client = make_client(servers)
    # When fetching
    cutout = closing(
        client.fetch(CutoutReceipt.from_dict({**receipt().to_dict(), "width": None, "height": None}))
    )
    # Then the image is accepted with its real size, unflagged
    assert (cutout.width, cutout.height, cutout.reported_size) == (321, 123, None)


def test_unavailable_result_is_retried_inside_fetch(
    closing: Callable[[Cutout], Cutout], make_client: MakeClient, fake_time: FakeTime
) -> None:
    # Given a result that is not there yet, then a 503, then there
    data = image_bytes()
    servers = FakeServers(
        result_answers=[httpx.Response(404), httpx.Response(503), image_response(data)],
    )
    client = make_client(servers, random_value=1.0)
    # When fetching
    cutout = closing(client.fetch(receipt()))
    # Then the free download was retried with short waits, and no paid call was made
    assert cutout.read() == data
    assert fake_time.sleeps == [0.25, 0.5]
    assert servers.api_requests == []


@pytest.mark.parametrize(
    ("answer", "requests", "code"),
    [
        (httpx.Response(404), 4, "result_gone"),  # still not there after the retries
        (httpx.Response(403, content=b"<Code>SignatureDoesNotMatch</Code>"), 1, "result_gone"),
        (httpx.Response(403, content=b"<Message>Request has expired.</Message>"), 1, "result_expired"),
    ],
)
def test_a_result_that_is_gone_says_so_for_good(
    make_client: MakeClient, answer: httpx.Response, requests: int, code: str
) -> None:
    # Given a result host that refuses the result (gone, bad signature, or past Expires)
    servers = FakeServers(result_answers=[answer])
    client = make_client(servers, random_value=0.0)
    # When fetching
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt())
    # Then it fails for good with its own reason (a replay cannot help; --repay can)
    assert (caught.value.code, caught.value.retryable) == (code, False)
    assert len(servers.result_requests) == requests
    assert "Signature" not in str(caught.value)


def test_a_receipt_past_its_expires_is_not_fetched(make_client: MakeClient) -> None:
    # Given a receipt whose signed URL expired an hour ago
    servers = FakeServers(result_answers=[image_response(image_bytes())])
    client = make_client(servers)
    old = CutoutReceipt.from_dict({**receipt().to_dict(), "expires_at": int(time.time()) - 3600})
    # When fetching it
    with pytest.raises(EngineError) as caught:
        client.fetch(old)
    # Then it says so without a request
    assert (caught.value.code, caught.value.retryable) == ("result_expired", False)
    assert servers.result_requests == []


@pytest.mark.parametrize("answer", [httpx.Response(500), httpx.ReadTimeout("timed out")])
def test_persistently_unavailable_result_is_retryable_for_the_caller(
    make_client: MakeClient, answer: httpx.Response | Exception
) -> None:
    # Given a result host that keeps failing
    servers = FakeServers(result_answers=[answer])
    client = make_client(servers, random_value=0.0)
    # When fetching
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt())
    # Then after the fetch budget the error says "retry later", without the signed URL
    assert (caught.value.code, caught.value.retryable) == ("result_unavailable", True)
    assert len(servers.result_requests) == 4
    assert "Signature" not in str(caught.value)


def test_slow_download_is_cut_at_its_time_cap(make_client: MakeClient, fake_time: FakeTime) -> None:
    # Given a result host that takes 15 s per chunk (the download cap is 20 s)
    def slow() -> Iterator[bytes]:
        for chunk in (b"\x89PNG", b"\r\n", b"\x1a\n"):
            fake_time.now += 15
            yield chunk

    servers = FakeServers(result_answers=[lambda request: httpx.Response(200, content=slow())])
    client = make_client(servers, random_value=0.0)
    # When fetching
    with pytest.raises(EngineError, match="took too long") as caught:
        client.fetch(receipt())
    # Then each attempt is cut at the cap, and the whole fetch stays within the call deadline
    assert caught.value.code == "result_unavailable"
    assert fake_time.now - 1000.0 <= AidgeConfig(app_key="k", app_secret="s").call_deadline_seconds + 15


def test_fetch_refuses_another_engines_receipt(make_client: MakeClient) -> None:
    # Given a receipt made by another engine
    other = CutoutReceipt.from_dict({**receipt().to_dict(), "engine": "studio"})
    client = make_client(FakeServers(result_answers=[image_response(image_bytes())]))
    # When fetching it
    # Then it is a programming error, said plainly
    with pytest.raises(ValueError, match="studio"):
        client.fetch(other)


def test_refusals_never_show_the_signed_url(make_client: MakeClient) -> None:
    # Given a signed result URL on a private host
    url = "https://10.0.0.1/r.png?OSSAccessKeyId=AK&Signature=SECRETSIG"
    client = make_client(FakeServers(result_answers=[image_response(image_bytes())]))
    # When the fetch is refused
    with pytest.raises(EngineError) as caught:
        client.fetch(receipt(url=url))
    # Then the record says why, without the signature
    assert "SECRETSIG" not in json.dumps(caught.value.to_dict())
    assert "SECRETSIG" not in str(caught.value)
