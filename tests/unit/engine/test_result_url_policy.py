"""Every branch of the result-URL scheme policy, from both starting schemes.

The rule (``ResultUrlPolicy``): an https URL is fetched over https only; an http URL is upgraded
to https (all policies but https-only), and falls back to plain http only under
upgrade-then-http, only on a TLS or connection failure. Once a hop has been made over https, no
redirect may lead back to plain http, whether the URL started as https or was upgraded from http.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from cutout.engine.aidge import AidgeClient
from cutout.engine.aidge.url_safety import ResultUrlPolicy
from cutout.engine.errors import EngineError
from cutout.engine.port import Cutout
from tests.unit.engine.aidge_doubles import PUBLIC_IP, RESULT_HOST, FakeServers, image_bytes, result_receipt

MakeClient = Callable[..., AidgeClient]
QUERY = "OSSAccessKeyId=AK&Expires=2719383457&Signature=abc%3D"
START_URLS = {
    "https": f"https://{RESULT_HOST}/data/cut.png?{QUERY}",
    "http": f"http://{RESULT_HOST}/data/cut.png?{QUERY}",
}
POLICIES = list(ResultUrlPolicy)
IMAGE = image_bytes()


def _host(
    *, https: str, http: str, https_redirect_to: str = "http", http_redirect_to: str = "http"
) -> Callable[[httpx.Request], httpx.Response]:
    """A result host whose answer per scheme is "image", "tls" (handshake fails) or "redirect".

    A redirect goes to ``/moved.png`` on the same host with the given scheme; ``/moved.png`` is
    then served as an image whatever the scheme (so only the policy can refuse it).
    """

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved.png":
            return httpx.Response(200, content=IMAGE)
        behaviour = https if request.url.scheme == "https" else http
        if behaviour == "tls":
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number", request=request)
        if behaviour == "redirect":
            scheme = https_redirect_to if request.url.scheme == "https" else http_redirect_to
            return httpx.Response(302, headers={"Location": f"{scheme}://{RESULT_HOST}/moved.png?{QUERY}"})
        return httpx.Response(200, content=IMAGE)

    return answer


def _fetch(
    make_client: MakeClient, policy: ResultUrlPolicy, url: str, host: Callable[..., httpx.Response]
) -> tuple[FakeServers, Cutout | EngineError]:
    servers = FakeServers(result_answers=[host])
    client = make_client(servers, result_url_policy=policy.value, random_value=0.0)
    try:
        cutout = client.fetch(result_receipt(url))
    except EngineError as error:
        return servers, error
    cutout.body.close()
    return servers, cutout


def _schemes(servers: FakeServers) -> list[str]:
    return [request.url.scheme for request in servers.result_requests]


@pytest.mark.parametrize("policy", POLICIES, ids=str)
def test_an_https_url_is_fetched_over_https_whatever_the_policy(
    make_client: MakeClient, policy: ResultUrlPolicy
) -> None:
    # Given an https result URL on a host serving it
    # When it is fetched
    servers, outcome = _fetch(make_client, policy, START_URLS["https"], _host(https="image", http="image"))
    # Then one https request to the checked address fetched it
    assert isinstance(outcome, Cutout)
    assert _schemes(servers) == ["https"]
    assert servers.result_requests[0].url.host == PUBLIC_IP


@pytest.mark.parametrize("policy", POLICIES, ids=str)
def test_an_https_url_never_falls_back_to_http(make_client: MakeClient, policy: ResultUrlPolicy) -> None:
    # Given an https result URL whose host fails the TLS handshake (and would serve plain http)
    # When it is fetched
    servers, outcome = _fetch(make_client, policy, START_URLS["https"], _host(https="tls", http="image"))
    # Then plain http is never tried, and the failure is a retryable unavailability
    assert isinstance(outcome, EngineError)
    assert outcome.code == "result_unavailable"
    assert set(_schemes(servers)) == {"https"}


@pytest.mark.parametrize("start", ["https", "http"])
@pytest.mark.parametrize("policy", [ResultUrlPolicy.UPGRADE_THEN_HTTP, ResultUrlPolicy.UPGRADE], ids=str)
def test_an_https_hop_redirecting_to_http_is_refused_from_either_start(
    make_client: MakeClient, policy: ResultUrlPolicy, start: str
) -> None:
    # Given a result host whose https answer redirects to plain http on the same host
    # (for an http start, the URL was upgraded to https first)
    host = _host(https="redirect", http="image", https_redirect_to="http")
    # When the URL is fetched
    servers, outcome = _fetch(make_client, policy, START_URLS[start], host)
    # Then the downgrade is refused for good, and plain http was never asked
    assert isinstance(outcome, EngineError)
    assert outcome.code == "result_url_refused"
    assert "plain http" in outcome.message
    assert _schemes(servers) == ["https"]


def test_an_https_url_redirecting_to_http_is_refused_under_https_only(make_client: MakeClient) -> None:
    # Given https-only and an https URL whose host redirects to plain http
    host = _host(https="redirect", http="image", https_redirect_to="http")
    # When it is fetched
    servers, outcome = _fetch(make_client, ResultUrlPolicy.HTTPS_ONLY, START_URLS["https"], host)
    # Then the redirect is refused and no plain http request was made
    assert isinstance(outcome, EngineError)
    assert outcome.code == "result_url_refused"
    assert _schemes(servers) == ["https"]


@pytest.mark.parametrize("start", ["https", "http"])
@pytest.mark.parametrize("policy", [ResultUrlPolicy.UPGRADE_THEN_HTTP, ResultUrlPolicy.UPGRADE], ids=str)
def test_an_https_hop_redirecting_to_https_is_followed(
    make_client: MakeClient, policy: ResultUrlPolicy, start: str
) -> None:
    # Given a host whose https answer redirects to https on the same host
    host = _host(https="redirect", http="image", https_redirect_to="https")
    # When the URL is fetched
    servers, outcome = _fetch(make_client, policy, START_URLS[start], host)
    # Then both hops went over https and the image came back
    assert isinstance(outcome, Cutout)
    assert _schemes(servers) == ["https", "https"]


@pytest.mark.parametrize("policy", [ResultUrlPolicy.UPGRADE_THEN_HTTP, ResultUrlPolicy.UPGRADE], ids=str)
def test_an_http_url_is_upgraded_and_needs_nothing_else(
    make_client: MakeClient, policy: ResultUrlPolicy
) -> None:
    # Given an http result URL on a host that serves https
    # When it is fetched
    servers, outcome = _fetch(make_client, policy, START_URLS["http"], _host(https="image", http="image"))
    # Then one request over https did it
    assert isinstance(outcome, Cutout)
    assert _schemes(servers) == ["https"]


def test_an_http_url_falls_back_to_http_only_under_upgrade_then_http(make_client: MakeClient) -> None:
    # Given an http result URL whose host fails the TLS handshake
    host = _host(https="tls", http="image")
    # When it is fetched under each policy
    fallback_servers, with_fallback = _fetch(
        make_client, ResultUrlPolicy.UPGRADE_THEN_HTTP, START_URLS["http"], host
    )
    upgrade_servers, upgrade_only = _fetch(make_client, ResultUrlPolicy.UPGRADE, START_URLS["http"], host)
    # Then upgrade-then-http falls back to plain http; upgrade never does (retryable unavailability)
    assert isinstance(with_fallback, Cutout)
    assert _schemes(fallback_servers) == ["https", "http"]
    assert isinstance(upgrade_only, EngineError)
    assert upgrade_only.code == "result_unavailable"
    assert set(_schemes(upgrade_servers)) == {"https"}


def test_an_http_url_is_refused_before_any_request_under_https_only(make_client: MakeClient) -> None:
    # Given https-only
    # When an http result URL is fetched
    servers, outcome = _fetch(
        make_client, ResultUrlPolicy.HTTPS_ONLY, START_URLS["http"], _host(https="image", http="image")
    )
    # Then it is refused for good, without a request
    assert isinstance(outcome, EngineError)
    assert outcome.code == "result_url_refused"
    assert servers.result_requests == []


def test_after_falling_back_to_http_an_http_redirect_on_the_same_host_is_followed(
    make_client: MakeClient,
) -> None:
    # Given an http URL whose https fails, and whose plain http redirects to plain http on the same host
    host = _host(https="tls", http="redirect", http_redirect_to="http")
    # When it is fetched under upgrade-then-http
    servers, outcome = _fetch(make_client, ResultUrlPolicy.UPGRADE_THEN_HTTP, START_URLS["http"], host)
    # Then no https hop was ever made, so the plain http redirect is allowed (its target upgraded first)
    assert isinstance(outcome, Cutout)
    assert _schemes(servers)[:2] == ["https", "http"]
    assert servers.result_requests[-1].url.path == "/moved.png"


def test_after_falling_back_to_http_a_redirect_to_https_forbids_http_again(make_client: MakeClient) -> None:
    # Given an http URL whose https fails for the first path, whose http redirects to https, and
    # whose https then redirects back down to http
    def host(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/data/cut.png":
            if request.url.scheme == "https":
                raise httpx.ConnectError("TLS handshake failed", request=request)
            return httpx.Response(302, headers={"Location": f"https://{RESULT_HOST}/step.png?{QUERY}"})
        if request.url.path == "/step.png":
            return httpx.Response(302, headers={"Location": f"http://{RESULT_HOST}/moved.png?{QUERY}"})
        return httpx.Response(200, content=IMAGE)

    # When it is fetched under upgrade-then-http
    servers, outcome = _fetch(make_client, ResultUrlPolicy.UPGRADE_THEN_HTTP, START_URLS["http"], host)
    # Then the way back down to http is refused
    assert isinstance(outcome, EngineError)
    assert outcome.code == "result_url_refused"
    assert [r.url.path for r in servers.result_requests] == ["/data/cut.png", "/data/cut.png", "/step.png"]
