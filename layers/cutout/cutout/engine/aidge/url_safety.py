"""Is a result URL safe to fetch from inside our AWS account? (server-side request forgery guard)

``data.imageUrl`` comes from a third party. Fetched blindly, a URL such as
``http://169.254.169.254/latest/meta-data/`` would read the Lambda's own credentials, and
``http://10.0.0.5/`` would reach into a VPC. So a result URL is fetched only when it is ``http``
or ``https`` (which of the two is tried, and in what order, is the ``ResultUrlPolicy`` the
downloader applies), carries no user info, its host is not a numeric trick (``2130706433``,
``0x7f.1``, ``0177.0.0.1``), and **every** address the host resolves to is public unicast, or
inside a network that is explicitly allowlisted (``RESULT_URL_ALLOWLIST``: addresses, never
host names or schemes; the local stack allowlists the emulator's loopback address only). Nothing
else can make a private, loopback, link-local or metadata address reachable.

The check returns a *pinned* request: the URL rewritten to one of the addresses just checked,
with the original ``Host`` header and TLS server name, so the connection cannot be re-resolved
to another address in between (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from cutout.engine.aidge.errors import ResultUnavailableError, ResultUrlRefusedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# ``socket.getaddrinfo``-compatible: (host, port) -> [(family, type, proto, canonname, sockaddr)].
Resolver = Callable[[str, int], Sequence[tuple[Any, ...]]]

DEFAULT_PORTS = {"http": 80, "https": 443}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ResultUrlPolicy(StrEnum):
    """Which schemes a result download uses (``RESULT_URL_POLICY``; see docs/engines.md, "Result URLs").

    - ``upgrade-then-http`` (default): an ``http`` URL is fetched over https first (same host,
      path and query); only when that fails for a TLS or connection reason, over plain http.
    - ``upgrade``: an ``http`` URL is fetched over https only.
    - ``https-only``: an ``http`` URL is refused.

    An ``https`` URL is always fetched over https only, whatever the policy.
    """

    UPGRADE_THEN_HTTP = "upgrade-then-http"
    UPGRADE = "upgrade"
    HTTPS_ONLY = "https-only"


def parse_address_allowlist(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``RESULT_URL_ALLOWLIST`` entries: IP addresses or networks (``127.0.0.1``, ``10.0.0.0/8``).

    An old-style origin whose host is an IP literal (``http://127.0.0.1:9000``) is read as its
    address only: the scheme and port rules apply to it like to any other URL. Host names are
    refused: they would trust whatever the name resolves to tomorrow.
    """
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        text = entry
        if "://" in entry:
            text = Origin.parse(entry).host
        try:
            networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError:
            raise ValueError(
                f"not an IP address or network: {entry!r} (the result-URL allowlist names addresses, "
                "e.g. 127.0.0.1 or 10.0.0.0/8, never host names)"
            ) from None
    return tuple(networks)


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_IPV4_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "255.255.255.255/32",
    )
)
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_IPV6_EMBEDS_IPV4_OR_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "2001::/32",  # Teredo (embeds an IPv4 address)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4 (embeds an IPv4 address)
    )
)
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Origin:
    """``scheme://host[:port]`` with the port made explicit, for exact comparisons."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: httpx.URL) -> Origin:
        scheme = url.scheme.lower()
        return cls(scheme, url.host.lower().rstrip("."), url.port or DEFAULT_PORTS.get(scheme, 0))

    @classmethod
    def parse(cls, text: str) -> Origin:
        """An allowlist entry: exactly ``scheme://host[:port]`` (a trailing slash is tolerated)."""
        try:
            url = httpx.URL(text.strip())
        except httpx.InvalidURL as exc:
            raise ValueError(f"not a scheme://host[:port] origin: {text!r}") from exc
        if (
            url.scheme not in DEFAULT_PORTS
            or not url.host
            or url.userinfo
            or url.path not in ("", "/")
            or url.query
            or url.fragment
        ):
            raise ValueError(f"not a scheme://host[:port] origin: {text!r}")
        return cls.of(url)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` must not be fetched from (a few words), or ``None`` if it is public unicast."""
    is_v4 = isinstance(address, ipaddress.IPv4Address)
    v6 = address if isinstance(address, ipaddress.IPv6Address) else None
    checks: tuple[tuple[bool, str], ...] = (
        (v6 is not None and v6.ipv4_mapped is not None, "an IPv4-mapped IPv6 address"),
        (
            v6 is not None and v6.packed[:12] == bytes(12) and not (v6.is_unspecified or v6.is_loopback),
            "an IPv4-compatible IPv6 address",
        ),
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address (cloud metadata lives there)"),
        (address.is_multicast, "a multicast address"),
        (is_v4 and address in _CGNAT, "a shared (CGNAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (is_v4 and any(address in net for net in _IPV4_NOT_PUBLIC), "a special-purpose address"),
        (
            v6 is not None
            and (v6 not in _IPV6_GLOBAL_UNICAST or any(v6 in net for net in _IPV6_EMBEDS_IPV4_OR_NOT_PUBLIC)),
            "a special-purpose IPv6 address",
        ),
        (not address.is_global, "an address that is not globally routable"),
    )
    return next((words for failed, words in checks if failed), None)


def literal_address(host: str) -> IPAddress | None:
    """The address when ``host`` is a canonical IP literal (``1.2.3.4``, ``::1``), else ``None``."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def is_numeric_host_trick(host: str) -> bool:
    """A host made only of numbers that is not a canonical IP: ``2130706433``, ``0x7f.1``, ``127.1``.

    Resolvers read these as IPv4 addresses (``inet_aton`` forms), which hides loopback and
    private addresses from a naive check. No real DNS name looks like this.
    """
    labels = host.rstrip(".").split(".")
    return all(_NUMERIC_LABEL.fullmatch(label) for label in labels) and literal_address(host) is None


@dataclass(frozen=True, slots=True)
class PinnedRequest:
    """What to send: the URL to connect to, plus headers/extensions that keep the original host."""

    url: httpx.URL = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


class UrlGuard:
    """Checks one result URL against the address rules and pins it (see the module docs).

    ``allowed_networks`` are the only non-public addresses ever accepted (the local emulator's
    loopback address). The scheme must be ``http`` or ``https``; which one is tried is the
    downloader's policy, not the guard's.
    """

    def __init__(
        self, allowed_networks: Iterable[IPNetwork] = (), resolver: Resolver = socket.getaddrinfo
    ) -> None:
        self._allowed = tuple(allowed_networks)
        self._resolver = resolver

    def is_allowlisted(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self._allowed)

    def check(self, url: httpx.URL) -> PinnedRequest:
        """A pinned request for ``url``, or ``ResultUrlRefusedError`` saying why not.

        Raises ``ResultUnavailableError`` when the host does not resolve (a retryable DNS hiccup).
        """
        host = url.host.lower()
        if url.scheme not in DEFAULT_PORTS:
            raise ResultUrlRefusedError(
                f"The result URL was refused: scheme {url.scheme or '(none)'!r} is not allowed "
                "(http or https only)."
            )
        if url.userinfo:
            raise ResultUrlRefusedError("The result URL was refused: it carries user credentials.")
        if not host:
            raise ResultUrlRefusedError("The result URL was refused: it has no host.")
        literal = literal_address(host)
        if literal is None and is_numeric_host_trick(host):
            raise ResultUrlRefusedError(
                f"The result URL was refused: host {host!r} is a numeric IP address in a non-standard form."
            )
        addresses = (
            [literal] if literal is not None else self._resolve(host, url.port or DEFAULT_PORTS[url.scheme])
        )
        for address in addresses:
            problem = address_problem(address)
            if problem is not None and not self.is_allowlisted(address):
                raise ResultUrlRefusedError(
                    f"The result URL was refused: host {host!r} is or resolves to {problem} ({address})."
                )
        chosen = next((a for a in addresses if isinstance(a, ipaddress.IPv4Address)), addresses[0])
        extensions: dict[str, Any] = (
            {"sni_hostname": host} if url.scheme == "https" and literal is None else {}
        )
        return PinnedRequest(
            url=url.copy_with(host=str(chosen)),
            headers={"Host": url.netloc.decode("ascii")},
            extensions=extensions,
        )

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            answers = self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise ResultUnavailableError(
                f"The result host {host!r} could not be resolved ({type(exc).__name__})."
            ) from None
        addresses: list[IPAddress] = []
        for answer in answers:
            sockaddr = answer[4] if len(answer) > 4 else ()
            text = sockaddr[0] if sockaddr and isinstance(sockaddr[0], str) else None
            address = literal_address(text) if text is not None else None
            if address is None:
                raise ResultUrlRefusedError(
                    f"The result URL was refused: host {host!r} resolved to something that is not an address."
                )
            addresses.append(address)
        if not addresses:
            raise ResultUnavailableError(f"The result host {host!r} resolved to no address.")
        return addresses
