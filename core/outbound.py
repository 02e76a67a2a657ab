"""Which URLs the server may request for people who typed them in: webhook endpoints and the HTTP provider.

An admin-typed URL must not reach into the server's own network (server-side request forgery):
127.0.0.1:6379, a database, 169.254.169.254 (cloud metadata), 10.x, fd00::, or a public name whose DNS
answers with one of those. ``check_url`` decides at save time (a form error) and ``CheckedTransport``
again for every request, because DNS can change after saving. The transport then connects to the very
address it checked, so a name cannot resolve to a public address for the check and to a private one
for the connection (DNS rebinding).

``OUTBOUND_ALLOW_PRIVATE_NETWORKS`` turns the address check off, for a self-hoster who delivers to an
internal CRM on purpose; names are then not resolved here at all (an internal name may resolve only
from the workers' network).

The standard library does it in a few lines; the one maintained-looking library for this, advocate,
wraps requests (we use httpx) and has not been released since 2020.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
# NAT64 gateways turn 64:ff9b::a.b.c.d into a connection to a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(Exception):
    """The URL may not be requested; the message says why, for a form error or a delivery log."""


class UnresolvableHost(OutboundRefused):
    """The host name does not resolve (a typo at save time; perhaps a passing DNS failure at send time)."""


def private_networks_allowed() -> bool:
    return bool(settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS)


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet; an IPv4 address inside an IPv6 one must be too."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    # is_global alone lets multicast through (224.0.0.0/4, ff0e::/16); the rest is belt and braces.
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str | httpx.URL) -> list[IPAddress]:
    """Refuse a URL the server must not request (``OutboundRefused``); return the addresses it may use.

    The list is empty when ``OUTBOUND_ALLOW_PRIVATE_NETWORKS`` is on: then any address goes.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise OutboundRefused(f"This is not a valid URL ({exc}).") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise OutboundRefused("Use an http:// or https:// URL.")
    if parsed.userinfo:
        raise OutboundRefused("Put no user name or password in the URL.")
    host = parsed.raw_host.decode("ascii")  # IDNA-encoded; an IPv6 address without brackets
    if not host:
        raise OutboundRefused("The URL has no host.")
    if private_networks_allowed():
        return []
    addresses = _resolve(host, parsed.port)
    for address in addresses:
        if not is_public(address):
            shown = str(address) if host == str(address) else f"{host} → {address}"
            raise OutboundRefused(
                f"This address points into a private network ({shown}); "
                "set OUTBOUND_ALLOW_PRIVATE_NETWORKS=1 to allow it."
            )
    return addresses


def _resolve(host: str, port: int | None) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnresolvableHost(f"The host name {host} does not resolve.") from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(answer[4][0]) for answer in answers))
    if not addresses:
        raise UnresolvableHost(f"The host name {host} does not resolve.")
    return addresses


class CheckedTransport(httpx.BaseTransport):
    """An httpx transport that sends a request only after ``check_url`` allows it, to the address it checked.

    Every request goes through it, so a redirect followed by a client would be checked too (ours follow
    none). The URL is rewritten to the checked IP; the Host header keeps the name (httpx set it when the
    request was built) and TLS still verifies the certificate for the name (``sni_hostname``). Only the
    first address is tried. Passing a transport makes httpx ignore HTTP(S)_PROXY from the environment,
    which is what we want: the check must see the real destination.
    """

    def __init__(self, wrapped: httpx.BaseTransport | None = None) -> None:
        self._wrapped = wrapped if wrapped is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            addresses = check_url(request.url)
        except UnresolvableHost as exc:
            # Not a refusal: DNS may be back soon, so callers retry it like any connection failure.
            raise httpx.ConnectError(str(exc), request=request) from exc
        if addresses:
            request.extensions = {**request.extensions, "sni_hostname": request.url.raw_host.decode("ascii")}
            request.url = request.url.copy_with(host=str(addresses[0]))
        return self._wrapped.handle_request(request)

    def close(self) -> None:
        self._wrapped.close()
