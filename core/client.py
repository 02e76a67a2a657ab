"""Who is on the other end of a request: the client's address behind our own proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: behind ``PROXY_COUNT`` proxies, the one the first proxy saw.

    Each proxy appends the address it received from to X-Forwarded-For, so the entry that many from
    the right is the client's; anything further left could be typed by the client itself. Used by the
    form rate limit and by django-axes' sign-in lockouts (``AXES_CLIENT_IP_CALLABLE``).
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None
