"""Every address class the result-URL guard refuses, from both sides of its edges (rule 5: nothing of
ours is reachable through a result URL).

For each special network: its first and last address are refused, the address just before and
just after it is public and accepted. Held over a range too: any address inside a refused network
is refused, whatever Python's own tables say. The resolver's answers are read whole: one unsafe
address among safe ones refuses the URL, an answer that is not an address refuses it, no answer is
retryable.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutout.engine.aidge.errors import ResultUnavailableError, ResultUrlRefusedError
from cutout.engine.aidge.url_safety import (
    Origin,
    UrlGuard,
    address_problem,
    literal_address,
    parse_address_allowlist,
)

EDGES = [
    # (just before: public, first refused, last refused, just after: public)
    ("9.255.255.255", "10.0.0.0", "10.255.255.255", "11.0.0.0"),
    ("100.63.255.255", "100.64.0.0", "100.127.255.255", "100.128.0.0"),
    ("169.253.255.255", "169.254.0.0", "169.254.255.255", "169.255.0.0"),
    ("172.15.255.255", "172.16.0.0", "172.31.255.255", "172.32.0.0"),
    ("192.0.1.255", "192.0.2.0", "192.0.2.255", "192.0.3.0"),
    ("192.167.255.255", "192.168.0.0", "192.168.255.255", "192.169.0.0"),
    ("198.17.255.255", "198.18.0.0", "198.19.255.255", "198.20.0.0"),
    ("198.51.99.255", "198.51.100.0", "198.51.100.255", "198.51.101.0"),
    ("203.0.112.255", "203.0.113.0", "203.0.113.255", "203.0.114.0"),
    ("223.255.255.255", "224.0.0.0", "239.255.255.255", None),
    ("1.0.0.0", "0.0.0.0", "0.255.255.255", None),  # noqa: S104  (an address judged, never bound)
    (
        "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db8::",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "2001:db9::",
    ),
    ("2001:ffff::1", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2003::"),
    (None, "::", "::ffff:ffff", None),
    (None, "::ffff:0:0", "::ffff:ffff:ffff", None),
    (None, "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    (None, "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
    (None, "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
]
PUBLIC = sorted({edge for row in EDGES for edge in (row[0], row[3]) if edge is not None})
REFUSED = sorted({edge for row in EDGES for edge in (row[1], row[2])})


@pytest.mark.parametrize("address", REFUSED)
def test_the_first_and_last_address_of_every_refused_network_are_refused(address: str) -> None:
    # Given an address at an edge of a network we never fetch from
    # When the guard judges it, Then it is refused, with a reason
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_the_address_just_outside_every_refused_network_is_public(address: str) -> None:
    # Given the public address just before or just after a refused network
    # When the guard judges it, Then it is accepted
    assert address_problem(ipaddress.ip_address(address)) is None


NETWORKS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/96",
    "::ffff:0:0/96",
    "2001::/32",
    "2001:db8::/32",
    "2002::/16",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
]


@settings(max_examples=200, deadline=None)
@given(network=st.sampled_from(NETWORKS), fraction=st.floats(min_value=0.0, max_value=1.0))
def test_any_address_inside_a_refused_network_is_refused(network: str, fraction: float) -> None:
    # Given any address inside a network we never fetch from
    net = ipaddress.ip_network(network)
    address = net[min(net.num_addresses - 1, int(fraction * (net.num_addresses - 1)))]
    # When the guard judges it, Then it is refused
    assert address_problem(address) is not None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:8.8.8.8", "an IPv4-mapped IPv6 address"),
        ("::8.8.8.8", "an IPv4-compatible IPv6 address"),
        ("::0.0.0.2", "an IPv4-compatible IPv6 address"),
        ("100.64.0.1", "a shared (CGNAT) address"),
        ("2002:808:808::1", "a special-purpose IPv6 address"),
        ("::", "the unspecified address"),
        ("::1", "a loopback address"),
    ],
)
def test_a_refusal_names_the_first_reason_that_holds(address: str, reason: str) -> None:
    # Given an address that hides a public IPv4 address, or is of a class we name apart
    # When the guard judges it, Then the reason names that class (an embedded public address does not save it)
    assert address_problem(ipaddress.ip_address(address)) == reason


def resolver_answering(*answers: tuple[Any, ...]) -> Any:
    def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
        return list(answers)

    return resolve


def v4(ip: str) -> tuple[Any, ...]:
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 443))


def v6(ip: str) -> tuple[Any, ...]:
    return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, 443, 0, 0))


@pytest.mark.parametrize("position", [0, 1, 2])
def test_one_unsafe_address_among_public_ones_refuses_the_url(position: int) -> None:
    # Given a host resolving to three addresses, one of them private, at any position
    answers = [v4("93.184.216.34"), v4("93.184.216.35"), v6("2606:4700::1111")]
    answers[position] = v4("10.0.0.7")
    guard = UrlGuard(resolver=resolver_answering(*answers))
    # When the guard checks a URL on it, Then it is refused, naming the unsafe address
    with pytest.raises(ResultUrlRefusedError, match=r"10\.0\.0\.7"):
        guard.check(httpx.URL("https://results.example.com/a.png"))


@pytest.mark.parametrize(
    "answer",
    [
        (),  # nothing at all
        (socket.AF_INET, socket.SOCK_STREAM, 6),  # cut short
        (socket.AF_INET, socket.SOCK_STREAM, 6, ""),  # no sockaddr
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ()),  # an empty one
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (2130706433, 443)),  # a number, not a text
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("not-an-address", 443)),
    ],
)
def test_an_answer_that_is_not_an_address_refuses_the_url(answer: tuple[Any, ...]) -> None:
    # Given a resolver whose answer carries no address text
    guard = UrlGuard(resolver=resolver_answering(v4("93.184.216.34"), answer))
    # When the guard checks a URL, Then it is refused (never guessed)
    with pytest.raises(ResultUrlRefusedError, match="not an address"):
        guard.check(httpx.URL("https://results.example.com/a.png"))


def test_no_answer_at_all_is_retryable() -> None:
    # Given a resolver that answers nothing, When the guard checks a URL, Then it may be tried again later
    guard = UrlGuard(resolver=resolver_answering())
    with pytest.raises(ResultUnavailableError, match="no address"):
        guard.check(httpx.URL("https://results.example.com/a.png"))


@pytest.mark.parametrize(
    "error", [socket.gaierror(socket.EAI_AGAIN, "again"), UnicodeError("label too long")]
)
def test_a_resolver_failure_is_retryable(error: Exception) -> None:
    # Given a resolver that fails (a DNS hiccup, a name IDNA cannot encode)
    def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
        raise error

    # When the guard checks a URL, Then it is unavailable for now, naming the failure's kind
    with pytest.raises(ResultUnavailableError, match=type(error).__name__):
        UrlGuard(resolver=resolve).check(httpx.URL("https://results.example.com/a.png"))


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("https://results.example.com/a.png", 443),
        ("http://results.example.com/a.png", 80),
        ("https://results.example.com:8443/a.png", 8443),
    ],
)
def test_the_host_is_resolved_for_the_port_the_url_will_use(url: str, port: int) -> None:
    # Given a resolver that records what it is asked
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[tuple[Any, ...]]:
        asked.append((host, port))
        return [v4("93.184.216.34")]

    # When the guard checks the URL, Then it asked for that host and port, and pinned to the address
    pinned = UrlGuard(resolver=resolve).check(httpx.URL(url))
    assert asked == [("results.example.com", port)]
    assert pinned.url.host == "93.184.216.34"
    assert pinned.extensions == ({"sni_hostname": "results.example.com"} if url.startswith("https") else {})


@pytest.mark.parametrize(
    "entry",
    [
        "http://user@127.0.0.1:9000",
        "http://user:pw@127.0.0.1",
        "http://127.0.0.1:9000/path",
        "http://127.0.0.1:9000/?q=1",
        "http://127.0.0.1:9000/#part",
        "ftp://127.0.0.1",
        "http://",
        "http://[::1",
        "results.example.com",
        "http://results.example.com",
    ],
)
def test_an_allowlist_entry_with_anything_but_an_address_is_refused(entry: str) -> None:
    # Given an allowlist entry carrying credentials, a path, a query, a fragment, another scheme,
    # no host, or a host name
    # When it is read, Then it is refused, saying what an entry may be
    with pytest.raises(ValueError, match=r"^not (an IP address or network|a scheme://host\[:port\] origin)"):
        parse_address_allowlist([entry])


@pytest.mark.parametrize(
    ("entry", "network"),
    [
        ("127.0.0.1", "127.0.0.1/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("http://127.0.0.1:9000", "127.0.0.1/32"),
        ("http://127.0.0.1:9000/", "127.0.0.1/32"),
        ("https://[::1]", "::1/128"),
        ("  ::1  ", "::1/128"),
    ],
)
def test_an_allowlist_entry_is_read_as_its_address_only(entry: str, network: str) -> None:
    # Given an address, a network, or an old-style origin naming an address
    # When it is read, Then only its address (or network) is kept; blank entries are skipped
    assert parse_address_allowlist([entry, "", "   "]) == (ipaddress.ip_network(network),)


def test_a_host_resolving_to_ipv6_only_is_pinned_to_the_first_address_given() -> None:
    # Given a host that resolves to two public IPv6 addresses (no IPv4), in the resolver's order
    guard = UrlGuard(resolver=resolver_answering(v6("2606:4700::1111"), v6("2606:4700::1001")))
    # When the guard checks a URL on it, Then it is pinned to the first (the resolver's preference)
    pinned = guard.check(httpx.URL("https://results.example.com/a.png"))
    assert pinned.url.host == "2606:4700::1111"


@pytest.mark.parametrize(
    ("host", "address"), [("fe80::1%eth0", "fe80::1"), ("fe80::1%25en0%x", "fe80::1"), ("::1", "::1")]
)
def test_an_ip_literal_with_a_zone_is_read_as_its_address(host: str, address: str) -> None:
    # Given an IPv6 literal with a zone id (or none), When it is read, Then it is that address
    assert literal_address(host) == ipaddress.ip_address(address)
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    ("text", "scheme", "host", "port", "written"),
    [
        ("http://127.0.0.1", "http", "127.0.0.1", 80, "http://127.0.0.1:80"),
        (
            "https://results.example.com",
            "https",
            "results.example.com",
            443,
            "https://results.example.com:443",
        ),
        (
            "https://Results.Example.com.:8443/",
            "https",
            "results.example.com",
            8443,
            "https://results.example.com:8443",
        ),
        ("http://[::1]:9000", "http", "::1", 9000, "http://[::1]:9000"),
        ("https://[2606:4700::1111]", "https", "2606:4700::1111", 443, "https://[2606:4700::1111]:443"),
    ],
)
def test_an_origin_is_its_scheme_host_and_port_made_explicit(
    text: str, scheme: str, host: str, port: int, written: str
) -> None:
    # Given an origin with or without its port, When it is read, Then the port is explicit (the
    # scheme's default when none is given), the host lower-case, and it is written back bracketed for IPv6
    origin = Origin.parse(text)
    assert (origin.scheme, origin.host, origin.port) == (scheme, host, port)
    assert str(origin) == written


@pytest.mark.parametrize(
    "text",
    [
        "http://user@host",
        "http://host/path",
        "http://host/?q",
        "http://host/#f",
        "ftp://host",
        "http:///path",
        "http://[::1",
    ],
)
def test_an_origin_is_nothing_more_than_scheme_host_and_port(text: str) -> None:
    # Given an origin with credentials, a path, a query, a fragment, another scheme, no host, or broken
    # When it is read, Then it is refused with our sentence
    with pytest.raises(ValueError, match=r"^not a scheme://host\[:port\] origin"):
        Origin.parse(text)


def test_blank_allowlist_entries_are_skipped_wherever_they_are() -> None:
    # Given blank entries before, between and after the addresses, When read, Then every address is kept
    assert parse_address_allowlist(["", "127.0.0.1", " ", "10.0.0.0/8", ""]) == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/8"),
    )


def test_a_pinned_request_never_shows_the_signed_url_when_printed() -> None:
    # Given a signed result URL checked and pinned
    guard = UrlGuard(resolver=resolver_answering(v4("93.184.216.34")))
    pinned = guard.check(httpx.URL("https://results.example.com/a.png?OSSAccessKeyId=AK&Signature=s3cr3t"))
    # When it is printed (a log line, an exception's repr), Then neither the signature nor the query shows
    assert "s3cr3t" not in repr(pinned)
    assert "Signature" not in repr(pinned)
    assert "s3cr3t" in str(pinned.url)  # it is still what is fetched


def test_origins_and_pinned_requests_cannot_be_changed_in_place() -> None:
    # Given an origin and a pinned request
    origin = Origin.parse("https://results.example.com")
    pinned = UrlGuard(resolver=resolver_answering(v4("93.184.216.34"))).check(
        httpx.URL("https://results.example.com/a.png")
    )
    # When something tries to point them elsewhere, Then they refuse (what was checked is what is used)
    with pytest.raises(dataclasses.FrozenInstanceError):
        origin.host = "10.0.0.1"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pinned.url = httpx.URL("https://10.0.0.1/")  # type: ignore[misc]
    assert hash(origin) == hash(Origin.parse("https://RESULTS.example.com:443/"))
