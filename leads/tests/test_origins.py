import pytest

from leads.origins import is_allowed_origin, origin_of, parse_origin, parse_origin_lines


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://www.Acme.example/pricing?utm_source=x", "https://www.acme.example"),
        ("https://www.acme.example:443/", "https://www.acme.example"),
        ("http://127.0.0.1:8080/page.html", "http://127.0.0.1:8080"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("javascript:alert(1)", None),
        ("//evil.example/", None),
        ("https://acme.example:99999/", None),
        ("", None),
        ("https://bücher.example/", "https://xn--bcher-kva.example"),
    ],
)
def test_origin_of_normalises_http_urls_only(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


def test_parse_origin_refuses_a_path() -> None:
    assert parse_origin("https://www.acme.example/blog") is None


@pytest.mark.parametrize(
    "line",
    [
        "https://www.acme.example *",
        "https://www.acme.example;script-src",
        "https://*.acme.example",
        "https://-a.example",
    ],
)
def test_parse_origin_refuses_a_host_that_is_no_host_name(line: str) -> None:
    assert parse_origin(line) is None


def test_parse_origin_lines_returns_origins_and_the_invalid_lines() -> None:
    origins, invalid = parse_origin_lines("https://www.acme.example/\n\nhttp://localhost:8080\nwww.acme.example\n")

    assert origins == ["https://www.acme.example", "http://localhost:8080"]
    assert invalid == ["www.acme.example"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://www.acme.example", True),
        ("https://WWW.ACME.EXAMPLE:443", True),
        ("http://www.acme.example", False),
        ("https://www.acme.example.evil.example", False),
        ("null", False),
        (None, False),
    ],
)
def test_is_allowed_origin_matches_scheme_host_and_port(origin: str | None, allowed: bool) -> None:
    assert is_allowed_origin(origin, ["https://www.acme.example"]) is allowed
