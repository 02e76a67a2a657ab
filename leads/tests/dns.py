"""A fake resolver: tests never depend on real DNS (test machines have no outside network)."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from typing import Any

import pytest


def fake_dns(monkeypatch: pytest.MonkeyPatch, records: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Make ``socket.getaddrinfo`` answer from ``records`` (name → addresses); other names do not resolve.

    Returns the table: change it during a test to change what a name resolves to (DNS rebinding).
    """
    table = {name: list(addresses) for name, addresses in records.items()}

    def getaddrinfo(host: str, port: int | None, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 0, 0, 0))
            if ":" in address
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))
            for address in table[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table
