"""Pure helpers for web origins ("https://www.example.com"): which sites may embed a form, post to it and be
redirected to after it. No ORM, no clock."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# What a browser sends as Origin from a page with no origin of its own: a sandboxed iframe, a data: URL, a
# file. Anyone can make one on any site, so a form accepts it only when its allowed origins list it.
OPAQUE_ORIGIN = "null"
# A DNS label as hosts use them (underscores included, as some intranet names have); lower case, as urlsplit gives.
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")


def origin_of(url: str) -> str | None:
    """The normalised origin of an http(s) URL (``https://www.example.com:8443``), or None when it has none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    host = _checked_host(host)
    if host is None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}"


def _checked_host(host: str) -> str | None:
    """``host`` as a browser sends it in an Origin (an IP address, or a name in ASCII), or None when it is neither.

    An origin goes into the embed page's ``frame-ancestors`` as it is: a space or a ``;`` in a host would add a
    source (``*``: any site) or a directive of its own, so anything but a host name or an address is refused.
    """
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.removesuffix(".").split(".")
    return ascii_host if all(_HOST_LABEL.fullmatch(label) for label in labels) else None


def parse_origin(value: str) -> str | None:
    """``value`` as a normalised origin when it is one: scheme and host (and port), no path, query or user."""
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return origin_of(value)


def parse_origin_lines(text: str) -> tuple[list[str], list[str]]:
    """The origins in ``text`` (one per line), and the lines that are not origins; ``null`` is neither."""
    origins: list[str] = []
    invalid: list[str] = []
    for line in text.splitlines():
        if not line.strip() or is_opaque_origin(line):
            continue  # "null" is no origin a page can be framed by or sent to; see allows_opaque_origin
        origin = parse_origin(line)
        if origin is None:
            invalid.append(line.strip())
        elif origin not in origins:
            origins.append(origin)
    return origins, invalid


def is_allowed_origin(origin: str | None, allowed: Iterable[str]) -> bool:
    """Whether ``origin`` (as a browser sends it) is one of ``allowed`` (normalised origins)."""
    if not origin or is_opaque_origin(origin):
        return False
    normalised = origin_of(origin)
    return normalised is not None and normalised in set(allowed)


def is_opaque_origin(value: str) -> bool:
    return value.strip().lower() == OPAQUE_ORIGIN


def allows_opaque_origin(text: str) -> bool:
    """Whether the allowed-origins ``text`` (one per line) lists ``null``, the origin of sandboxed frames."""
    return any(is_opaque_origin(line) for line in text.splitlines())
