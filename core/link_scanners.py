"""Requests for a link in an email that no person made: mail security scanners, link checkers and previewers.

Corporate mail gateways (Microsoft Defender Safe Links, Mimecast, Proofpoint, Barracuda …) fetch every link of
an incoming email within seconds of delivery. Their requests still get the page (a person behind a gateway
follows the same link later); they must only never count as the person's engagement. This module decides from
the request alone; timing (a click seconds after the send, several links at once) is the caller's to judge.

Pure: no database, no clock. ``crawlerdetect`` knows crawlers, previewers, headless browsers and HTTP
libraries (Barracuda and Office's link checks among them); the names below are the gateways it misses.
"""

from __future__ import annotations

from functools import cache

from crawlerdetect import CrawlerDetect

HEAD_REQUEST = "head"  # a link checker asking whether the link works; a browser following a link sends GET
SCANNER_AGENT = "user_agent"  # no user agent, or one that names a scanner, a crawler or an HTTP library

# Lower case, matched anywhere in the user agent.
MAIL_SCANNER_NAMES = (
    "safelinks",
    "mimecast",
    "proofpoint",
    "urldefense",
    "barracuda",
    "ironport",
    "messagelabs",
    "symantec",
    "sophos",
    "trendmicro",
    "trend micro",
    "fortimail",
    "forcepoint",
    "fireeye",
    "trellix",
    "hornetsecurity",
    "urlscan",
)


@cache
def _detector() -> CrawlerDetect:
    return CrawlerDetect()


def automated_reason(*, method: str, user_agent: str) -> str:
    """Why this request is a machine's (``HEAD_REQUEST`` or ``SCANNER_AGENT``), or "" when a person may have made it."""
    if method.upper() == "HEAD":
        return HEAD_REQUEST
    agent = user_agent.strip()
    if not agent or any(name in agent.lower() for name in MAIL_SCANNER_NAMES) or _detector().isCrawler(agent):
        return SCANNER_AGENT
    return ""
