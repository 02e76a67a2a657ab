import pytest

from leads.channels import Channel, TouchFacts, assign_channel, default_rules, referrer_domain


@pytest.mark.parametrize(
    ("facts", "channel"),
    [
        (TouchFacts(source="google", medium="cpc", campaign="brand"), Channel.PAID_SEARCH),
        (TouchFacts(source="bing", medium="PPC"), Channel.PAID_SEARCH),
        (TouchFacts(click_id="EAIaIQobChMI", referrer="https://www.google.com/"), Channel.PAID_SEARCH),
        (TouchFacts(source="linkedin", medium="paid_social", campaign="q3"), Channel.PAID_SOCIAL),
        (TouchFacts(source="newsletter", medium="email"), Channel.EMAIL),
        (TouchFacts(source="b2b-growth-podcast", medium="podcast"), Channel.PODCAST),
        (TouchFacts(source="partner-webinar", medium="webinar"), Channel.WEBINAR),
        (TouchFacts(source="saastr", medium="event"), Channel.EVENT),
        (TouchFacts(source="acme-partner", medium="affiliate"), Channel.PARTNER),
        (TouchFacts(source="linkedin", medium="social"), Channel.ORGANIC_SOCIAL),
        (TouchFacts(referrer="https://www.google.co.uk/search?q=leads"), Channel.ORGANIC_SEARCH),
        (TouchFacts(referrer="https://duckduckgo.com/"), Channel.ORGANIC_SEARCH),
        (TouchFacts(referrer="https://www.linkedin.com/feed/"), Channel.ORGANIC_SOCIAL),
        (TouchFacts(referrer="https://t.co/abc"), Channel.ORGANIC_SOCIAL),
        (TouchFacts(referrer="https://blog.example.org/post"), Channel.REFERRAL),
        (TouchFacts(), Channel.DIRECT),
        (TouchFacts(source="google", medium="banner"), Channel.OTHER),
        # A UTM-tagged visit from a search engine is what the tags say, not organic search.
        (TouchFacts(source="spring-promo", medium="display", referrer="https://www.google.com/"), Channel.OTHER),
    ],
)
def test_default_rules_assign_the_expected_channel(facts: TouchFacts, channel: str) -> None:
    assert assign_channel(facts, default_rules()) == channel


def test_first_matching_rule_wins() -> None:
    rules = default_rules()
    facts = TouchFacts(source="google", medium="cpc", click_id="x")

    assert assign_channel(facts, [rules[1], rules[0]]) == Channel.PAID_SEARCH
    assert assign_channel(facts, []) == Channel.OTHER


@pytest.mark.parametrize(
    ("referrer", "domain"),
    [
        ("https://www.Google.com/search?q=x", "google.com"),
        ("http://news.ycombinator.com/item", "news.ycombinator.com"),
        ("not a url", ""),
        ("", ""),
    ],
)
def test_referrer_domain_is_the_host_without_www(referrer: str, domain: str) -> None:
    assert referrer_domain(referrer) == domain
