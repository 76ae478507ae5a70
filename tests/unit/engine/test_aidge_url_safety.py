"""The result-URL guard: http or https, every address public unicast (or allowlisted), pinned."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from cutout.engine.aidge.errors import ResultUnavailableError, ResultUrlRefusedError
from cutout.engine.aidge.url_safety import (
    UrlGuard,
    address_problem,
    is_numeric_host_trick,
    parse_address_allowlist,
)
from tests.unit.engine.aidge_doubles import PUBLIC_IP, fake_resolver

DNS = {
    "results.example.com": [PUBLIC_IP],
    "v6.example.com": ["2606:4700::1111"],
    "dual.example.com": ["2606:4700::1111", PUBLIC_IP],
    "private.example.com": ["10.1.2.3"],
    "mixed.example.com": [PUBLIC_IP, "192.168.1.10"],
    "metadata.example.com": ["169.254.169.254"],
    "localhost": ["127.0.0.1", "::1"],
    "emu-bucket.oss-local-1.aliyuncs.com": ["127.0.0.1"],
}


def guard(*allowlist: str) -> UrlGuard:
    return UrlGuard(parse_address_allowlist(allowlist), fake_resolver(DNS))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://results.example.com/a.png", "scheme 'ftp'"),
        ("https://user:pw@results.example.com/a.png", "credentials"),
        ("https://127.0.0.1/a.png", "loopback"),
        ("https://10.0.0.1/a.png", "private"),
        ("https://172.16.5.4/a.png", "private"),
        ("https://172.31.255.255/a.png", "private"),
        ("https://192.168.0.1/a.png", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://100.64.0.1/a.png", "CGNAT"),
        ("https://0.0.0.0/a.png", "unspecified"),
        ("https://224.0.0.1/a.png", "multicast"),
        ("https://240.0.0.1/a.png", "reserved|private"),  # the label varies across Python versions
        ("https://[::1]/a.png", "loopback"),
        ("https://[fc00::1]/a.png", "private"),
        ("https://[fe80::1]/a.png", "link-local"),
        ("https://[::ffff:127.0.0.1]/a.png", "IPv4-mapped"),
        ("https://[::ffff:8.8.8.8]/a.png", "IPv4-mapped"),
        ("https://[::127.0.0.1]/a.png", "IPv4-compatible"),
        ("https://[2002:7f00:1::]/a.png", "special-purpose IPv6"),
        ("https://[64:ff9b::7f00:1]/a.png", "reserved|IPv6"),
        ("https://2130706433/a.png", "non-standard form"),
        ("https://0x7f000001/a.png", "non-standard form"),
        ("https://0x7f.0.0.1/a.png", "non-standard form"),
        ("https://127.1/a.png", "non-standard form"),
        ("https://017700000001/a.png", "non-standard form"),
        ("https://private.example.com/a.png", "private"),
        ("https://mixed.example.com/a.png", "private"),
        ("https://metadata.example.com/a.png", "link-local"),
        ("https://localhost/a.png", "loopback"),
    ],
)
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_unsafe_urls_are_refused_with_a_reason(url: str, reason: str, scheme: str) -> None:
    # Given a result URL pointing somewhere unsafe, over https or plain http, and no allowlist
    url = url.replace("https://", f"{scheme}://", 1)
    # When the guard checks it
    # Then it is refused, saying why, without repeating the query
    with pytest.raises(ResultUrlRefusedError, match=reason) as caught:
        guard().check(httpx.URL(url))
    assert caught.value.code == "result_url_refused"
    assert caught.value.retryable is False


def test_octal_dotted_quad_is_refused_before_any_request() -> None:
    # Given an octal dotted quad, which httpx itself refuses to parse
    # When it is given as a URL
    # Then it never becomes a request (httpx raises InvalidURL, the downloader maps it to a refusal)
    with pytest.raises(httpx.InvalidURL):
        httpx.URL("https://0177.0.0.1/a.png")


def test_public_https_is_pinned_to_the_checked_address() -> None:
    # Given a public https result URL whose host resolves to a public address
    url = httpx.URL("https://results.example.com/data/a.png?Signature=abc")
    # When the guard checks it
    pinned = guard().check(url)
    # Then the request goes to the checked address, keeping the host for HTTP and TLS
    assert pinned.url.host == PUBLIC_IP
    assert pinned.url.path == "/data/a.png"
    assert pinned.url.query == b"Signature=abc"
    assert pinned.headers == {"Host": "results.example.com"}
    assert pinned.extensions == {"sni_hostname": "results.example.com"}


@pytest.mark.parametrize(
    ("host", "expected_ip"),
    [("dual.example.com", PUBLIC_IP), ("v6.example.com", "2606:4700::1111")],
)
def test_ipv4_is_preferred_when_both_families_resolve(host: str, expected_ip: str) -> None:
    # Given a host with public addresses
    # When the guard checks it
    pinned = guard().check(httpx.URL(f"https://{host}/a.png"))
    # Then an IPv4 address is chosen when there is one (Lambda egress is IPv4)
    assert pinned.url.host == expected_ip


def test_public_ip_literal_is_accepted_without_dns() -> None:
    # Given a public IPv4 literal
    # When the guard checks it
    pinned = guard().check(httpx.URL("https://8.8.8.8/a.png"))
    # Then it is used as it is
    assert pinned.url.host == "8.8.8.8"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/r.png",
        "https://127.0.0.1:9443/r.png",
        "http://emu-bucket.oss-local-1.aliyuncs.com:9000/data%2Fx.png?Expires=1&Signature=a%3D",
    ],
)
def test_an_allowlisted_address_is_reachable_on_any_scheme_and_port(url: str) -> None:
    # Given the emulator's loopback address allowlisted (the local stack's only exemption)
    # When the guard checks a URL on it, by address or by a host name that resolves to it
    pinned = guard("127.0.0.1").check(httpx.URL(url))
    # Then it is accepted and pinned to that address, the original host kept for Host (and SNI)
    assert pinned.url.host == "127.0.0.1"
    assert pinned.headers["Host"] == httpx.URL(url).netloc.decode()
    assert pinned.url.raw_path == httpx.URL(url).raw_path  # the %2F of OSS keys is kept as it is


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:9000/r.png",  # loopback, but not the allowlisted address
        "http://localhost:9000/r.png",  # resolves to 127.0.0.1 and ::1: one is not allowlisted
        "http://169.254.169.254/latest/meta-data/",  # metadata
        "http://10.0.0.1/r.png",  # private
        "http://2130706433:9000/r.png",  # 127.0.0.1 in a numeric trick: never, allowlist or not
    ],
)
def test_the_allowlist_exempts_exactly_its_addresses(url: str) -> None:
    # Given 127.0.0.1 allowlisted
    # When a URL on any other non-public address is checked
    # Then it gets no exemption
    with pytest.raises(ResultUrlRefusedError):
        guard("127.0.0.1").check(httpx.URL(url))


def test_unresolvable_host_is_retryable() -> None:
    # Given a host DNS does not know (right now)
    # When the guard checks it
    # Then it is a retryable unavailability, not a refusal
    with pytest.raises(ResultUnavailableError, match="could not be resolved"):
        guard().check(httpx.URL("https://unknown.example.com/a.png"))


@pytest.mark.parametrize(
    ("address", "safe"),
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("255.255.255.255", False),
        ("ff02::1", False),
        ("2001:db8::1", False),
        ("2001:0:4136:e378::1", False),
    ],
)
def test_address_classes(address: str, safe: bool) -> None:
    # Given an address
    # When classifying it
    problem = address_problem(ipaddress.ip_address(address))
    # Then only public unicast has no problem
    assert (problem is None) is safe


@pytest.mark.parametrize(
    ("host", "trick"),
    [
        ("2130706433", True),
        ("0x7f.1", True),
        ("127.1", True),
        ("1.2.3.4", False),
        ("results.example.com", False),
        ("deadbeef.example", False),
        ("123.example.com", False),
    ],
)
def test_numeric_host_tricks(host: str, trick: bool) -> None:
    # Given a host name
    # When asking whether it is a disguised IP
    # Then only all-numeric non-canonical forms are
    assert is_numeric_host_trick(host) is trick
