"""Which requests for a link in an email no person made: pure, no database."""

from __future__ import annotations

import pytest

from core.link_scanners import HEAD_REQUEST, SCANNER_AGENT, automated_reason

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    "user_agent",
    [
        CHROME,
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
        "Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        f"{CHROME} Edg/131.0.0.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
        "Mobile/15E148 Safari/604.1",
        # A phone whose model name ends in "bot"
        "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Mobile "
        "Safari/537.36",
    ],
)
def test_a_persons_browser_may_be_a_person(user_agent: str) -> None:
    assert automated_reason(method="GET", user_agent=user_agent) == ""


@pytest.mark.parametrize(
    "user_agent",
    [
        "Barracuda Sentinel (EE)",
        "Mimecast",
        "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
        f"{CHROME} SafeLinks",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        CHROME.replace("Chrome/", "HeadlessChrome/"),
        "python-requests/2.32.3",
        "curl/8.5.0",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    ],
)
def test_a_mail_scanner_crawler_or_http_library_is_a_machine(user_agent: str) -> None:
    assert automated_reason(method="GET", user_agent=user_agent) == SCANNER_AGENT


@pytest.mark.parametrize("user_agent", ["", "   "])
def test_a_request_without_a_user_agent_is_a_machine(user_agent: str) -> None:
    assert automated_reason(method="GET", user_agent=user_agent) == SCANNER_AGENT


def test_a_head_request_is_a_link_checker_whatever_its_user_agent() -> None:
    assert automated_reason(method="HEAD", user_agent=CHROME) == HEAD_REQUEST
