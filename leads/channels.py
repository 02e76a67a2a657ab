"""Pure channel assignment for a touch: the first matching channel rule wins.

The rules are rows marketers edit in admin (``leads.models.ChannelRule``); ``DEFAULT_RULES`` are the
ones a new installation starts with. No ORM and no clock in here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit


class Channel:
    PAID_SEARCH = "paid_search"
    ORGANIC_SEARCH = "organic_search"
    PAID_SOCIAL = "paid_social"
    ORGANIC_SOCIAL = "organic_social"
    EMAIL = "email"
    REFERRAL = "referral"
    DIRECT = "direct"
    EVENT = "event"
    PODCAST = "podcast"
    WEBINAR = "webinar"
    PARTNER = "partner"
    OTHER = "other"

    CHOICES = (
        (PAID_SEARCH, "Paid search"),
        (ORGANIC_SEARCH, "Organic search"),
        (PAID_SOCIAL, "Paid social"),
        (ORGANIC_SOCIAL, "Organic social"),
        (EMAIL, "Email"),
        (REFERRAL, "Referral"),
        (DIRECT, "Direct"),
        (EVENT, "Event"),
        (PODCAST, "Podcast"),
        (WEBINAR, "Webinar"),
        (PARTNER, "Partner"),
        (OTHER, "Other"),
    )


@dataclass(frozen=True)
class TouchFacts:
    source: str = ""
    medium: str = ""
    campaign: str = ""
    click_id: str = ""
    referrer: str = ""

    @property
    def referrer_domain(self) -> str:
        return referrer_domain(self.referrer)

    @property
    def has_utm(self) -> bool:
        return bool(self.source or self.medium or self.campaign)


@dataclass(frozen=True)
class ChannelCondition:
    """Every condition that is set must hold. Lists match case-insensitively; domains allow ``*``."""

    mediums: frozenset[str] = field(default_factory=frozenset)
    sources: frozenset[str] = field(default_factory=frozenset)
    referrer_domains: frozenset[str] = field(default_factory=frozenset)
    needs_click_id: bool = False
    needs_no_utm: bool = False
    needs_referrer: bool = False

    @classmethod
    def build(cls, **values: Any) -> ChannelCondition:
        def folded(name: str) -> frozenset[str]:
            return frozenset(str(v).strip().lower() for v in (values.get(name) or ()) if str(v).strip())

        flags = {name: bool(values.get(name)) for name in ("needs_click_id", "needs_no_utm", "needs_referrer")}
        return cls(
            mediums=folded("mediums"), sources=folded("sources"), referrer_domains=folded("referrer_domains"), **flags
        )


def referrer_domain(referrer: str) -> str:
    """The host of a referrer URL, lower-cased, without a leading ``www.``; "" when there is none."""
    host = (urlsplit(referrer.strip()).hostname or "") if referrer else ""
    return host.removeprefix("www.")


def _domain_matches(domain: str, patterns: frozenset[str]) -> bool:
    return any(fnmatchcase(domain, p) or fnmatchcase(domain, f"*.{p}") for p in patterns)


def condition_holds(condition: ChannelCondition, facts: TouchFacts) -> bool:
    domain = facts.referrer_domain
    return not (
        (condition.mediums and facts.medium.strip().lower() not in condition.mediums)
        or (condition.sources and facts.source.strip().lower() not in condition.sources)
        or (condition.referrer_domains and not _domain_matches(domain, condition.referrer_domains))
        or (condition.needs_click_id and not facts.click_id)
        or (condition.needs_no_utm and facts.has_utm)
        or (condition.needs_referrer and not domain)
    )


def assign_channel(facts: TouchFacts, rules: Iterable[tuple[str, ChannelCondition]]) -> str:
    """The channel of the first rule whose condition holds; ``other`` when none does."""
    return next((channel for channel, condition in rules if condition_holds(condition, facts)), Channel.OTHER)


SEARCH_ENGINES = ("google.*", "bing.com", "duckduckgo.com", "search.yahoo.com", "yandex.*", "baidu.com", "ecosia.org")
SOCIAL_NETWORKS = ("linkedin.com", "lnkd.in", "facebook.com", "t.co", "x.com", "twitter.com", "instagram.com",
                   "youtube.com", "reddit.com")  # fmt: skip

# (channel, condition) in order; seeded into ChannelRule rows, which admins then own.
DEFAULT_RULES: tuple[tuple[str, dict[str, object]], ...] = (
    (Channel.PAID_SEARCH, {"needs_click_id": True}),
    (Channel.PAID_SEARCH, {"mediums": ["cpc", "ppc", "paid_search", "paidsearch", "sem"]}),
    (Channel.PAID_SOCIAL, {"mediums": ["paid_social", "paidsocial", "social_paid", "cpm", "sponsored"]}),
    (Channel.EMAIL, {"mediums": ["email", "e-mail", "newsletter"]}),
    (Channel.PODCAST, {"mediums": ["podcast", "audio"]}),
    (Channel.WEBINAR, {"mediums": ["webinar"]}),
    (Channel.EVENT, {"mediums": ["event", "trade_show", "tradeshow", "conference", "booth"]}),
    (Channel.PARTNER, {"mediums": ["partner", "affiliate", "co-marketing"]}),
    (Channel.ORGANIC_SOCIAL, {"mediums": ["social", "organic_social"]}),
    (Channel.REFERRAL, {"mediums": ["referral"]}),
    (Channel.ORGANIC_SEARCH, {"mediums": ["organic"]}),
    (Channel.ORGANIC_SEARCH, {"needs_no_utm": True, "referrer_domains": list(SEARCH_ENGINES)}),
    (Channel.ORGANIC_SOCIAL, {"needs_no_utm": True, "referrer_domains": list(SOCIAL_NETWORKS)}),
    (Channel.REFERRAL, {"needs_no_utm": True, "needs_referrer": True}),
    (Channel.DIRECT, {"needs_no_utm": True}),
)


def default_rules() -> list[tuple[str, ChannelCondition]]:
    return [(channel, ChannelCondition.build(**condition)) for channel, condition in DEFAULT_RULES]
