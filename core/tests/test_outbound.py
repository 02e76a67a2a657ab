"""Outbound URLs (webhooks, the HTTP provider) may not reach into the server's own network."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from pytest_django.fixtures import Settings

from core import outbound
from leads.tests.dns import fake_dns

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:4700::1111"


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    return fake_dns(monkeypatch, {"hooks.example.com": [PUBLIC_V4]})


def refusal(url: str) -> str:
    with pytest.raises(outbound.OutboundRefused) as caught:
        outbound.check_url(url)
    return str(caught.value)


def test_loopback_is_refused() -> None:
    assert "private network (127.0.0.1)" in refusal("http://127.0.0.1:6379/")


def test_a_private_address_is_refused_with_the_address_and_the_setting_named() -> None:
    assert refusal("http://10.0.0.5/hook") == (
        "This address points into a private network (10.0.0.5); set OUTBOUND_ALLOW_PRIVATE_NETWORKS=1 to allow it."
    )


def test_the_cloud_metadata_address_is_refused() -> None:
    assert "169.254.169.254" in refusal("http://169.254.169.254/latest/meta-data/")


def test_ipv6_loopback_is_refused() -> None:
    assert "(::1)" in refusal("http://[::1]:5432/")


@pytest.mark.parametrize("address", ["fd12:3456::1", "fe80::1"])
def test_ipv6_unique_local_and_link_local_are_refused(address: str) -> None:
    assert "private network" in refusal(f"https://[{address}]/hook")


def test_ipv4_mapped_ipv6_loopback_is_refused() -> None:
    assert "private network" in refusal("http://[::ffff:127.0.0.1]/")


def test_a_public_name_that_resolves_to_a_private_address_is_refused(dns: dict[str, list[str]]) -> None:
    dns["crm.example.com"] = ["192.168.1.20"]

    assert "(crm.example.com → 192.168.1.20)" in refusal("https://crm.example.com/hook")


def test_a_name_with_one_private_address_among_public_ones_is_refused(dns: dict[str, list[str]]) -> None:
    dns["crm.example.com"] = [PUBLIC_V4, "10.0.0.5"]

    assert "10.0.0.5" in refusal("https://crm.example.com/hook")


def test_a_name_that_does_not_resolve_is_refused(dns: dict[str, list[str]]) -> None:
    assert refusal("https://typo.example.com/hook") == "The host name typo.example.com does not resolve."


def test_a_public_name_is_allowed_and_its_addresses_returned(dns: dict[str, list[str]]) -> None:
    dns["hooks.example.com"] = [PUBLIC_V4, PUBLIC_V6]

    assert outbound.check_url("https://hooks.example.com/leadsite") == [
        ipaddress.ip_address(PUBLIC_V4),
        ipaddress.ip_address(PUBLIC_V6),
    ]


def test_the_setting_allows_private_addresses(settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True

    assert outbound.check_url("http://10.0.0.5:8080/hook") == []


@pytest.mark.parametrize("url", ["ftp://files.example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_"])
def test_only_http_and_https_are_allowed(url: str) -> None:
    assert refusal(url) == "Use an http:// or https:// URL."


def test_credentials_in_the_url_are_refused(dns: dict[str, list[str]]) -> None:
    assert refusal("https://admin:secret@hooks.example.com/") == "Put no user name or password in the URL."


@pytest.mark.parametrize(
    "address",
    [
        "224.0.0.1",  # multicast, which is_global alone lets through
        "ff0e::1",
        "0.0.0.0",
        "100.64.0.1",  # carrier-grade NAT
        "240.0.0.1",  # reserved
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
    ],
)
def test_addresses_outside_the_public_internet_are_not_public(address: str) -> None:
    assert not outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC_V4, PUBLIC_V6, "::ffff:93.184.216.34"])
def test_public_addresses_are_public(address: str) -> None:
    assert outbound.is_public(ipaddress.ip_address(address))


# --- The transport: checked again at send time, connected to the checked address -------------------


def client_seeing(sent: list[httpx.Request]) -> httpx.Client:
    """A client whose transport checks and pins, then hands the request to a recorder instead of the network."""

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    return httpx.Client(transport=outbound.CheckedTransport(httpx.MockTransport(record)))


def test_the_request_goes_to_the_checked_address_with_the_name_kept(dns: dict[str, list[str]]) -> None:
    sent: list[httpx.Request] = []

    client_seeing(sent).post("https://hooks.example.com/leadsite")

    (request,) = sent
    assert (str(request.url), request.headers["Host"], request.extensions["sni_hostname"]) == (
        f"https://{PUBLIC_V4}/leadsite",
        "hooks.example.com",
        "hooks.example.com",
    )


def test_a_name_that_now_resolves_privately_is_refused_before_sending(dns: dict[str, list[str]]) -> None:
    sent: list[httpx.Request] = []
    dns["hooks.example.com"] = ["127.0.0.1"]

    with pytest.raises(outbound.OutboundRefused):
        client_seeing(sent).post("https://hooks.example.com/leadsite")

    assert sent == []


def test_a_name_that_stops_resolving_is_a_connection_error(dns: dict[str, list[str]]) -> None:
    del dns["hooks.example.com"]

    with pytest.raises(httpx.ConnectError, match="does not resolve"):
        client_seeing([]).post("https://hooks.example.com/leadsite")


def test_with_the_setting_the_request_is_sent_unpinned(settings: Settings) -> None:
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    sent: list[httpx.Request] = []

    client_seeing(sent).post("http://crm.internal:8080/hook")

    assert str(sent[0].url) == "http://crm.internal:8080/hook"
