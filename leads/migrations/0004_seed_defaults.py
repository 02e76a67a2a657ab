"""Defaults a new installation starts with; marketers own and edit them in admin afterwards."""

from django.db import migrations

# Frozen copies, so later edits to the code's defaults do not change what this migration did.
CHANNEL_RULES = [
    ("paid_search", {"needs_click_id": True}),
    ("paid_search", {"mediums": ["cpc", "ppc", "paid_search", "paidsearch", "sem"]}),
    ("paid_social", {"mediums": ["paid_social", "paidsocial", "social_paid", "cpm", "sponsored"]}),
    ("email", {"mediums": ["email", "e-mail", "newsletter"]}),
    ("podcast", {"mediums": ["podcast", "audio"]}),
    ("webinar", {"mediums": ["webinar"]}),
    ("event", {"mediums": ["event", "trade_show", "tradeshow", "conference", "booth"]}),
    ("partner", {"mediums": ["partner", "affiliate", "co-marketing"]}),
    ("organic_social", {"mediums": ["social", "organic_social"]}),
    ("referral", {"mediums": ["referral"]}),
    ("organic_search", {"mediums": ["organic"]}),
    (
        "organic_search",
        {
            "needs_no_utm": True,
            "referrer_domains": [
                "google.*",
                "bing.com",
                "duckduckgo.com",
                "search.yahoo.com",
                "yandex.*",
                "baidu.com",
                "ecosia.org",
            ],
        },
    ),
    (
        "organic_social",
        {
            "needs_no_utm": True,
            "referrer_domains": [
                "linkedin.com",
                "lnkd.in",
                "facebook.com",
                "t.co",
                "x.com",
                "twitter.com",
                "instagram.com",
                "youtube.com",
                "reddit.com",
            ],
        },
    ),
    ("referral", {"needs_no_utm": True, "needs_referrer": True}),
    ("direct", {"needs_no_utm": True, "is_meaningful": False}),
]
SIZE_BANDS = [("Start-up", 1, 49), ("SMB", 50, 199), ("Mid-market", 200, 999), ("Enterprise", 1000, None)]
INDUSTRIES = [
    ("Software", ["SaaS", "Computer Software", "Internet"]),
    ("Fintech", ["Financial Technology", "Payments"]),
    ("Financial services", ["Banking", "Insurance"]),
    ("Healthcare", ["Health", "Hospitals", "Biotech", "Pharmaceuticals"]),
    ("Logistics", ["Transportation", "Supply Chain"]),
    ("Manufacturing", ["Industrial"]),
    ("Retail", ["E-commerce", "Ecommerce"]),
    ("Media", ["Publishing", "Entertainment"]),
    ("Telecommunications", ["Telecom"]),
    ("Energy", ["Utilities", "Oil & Gas"]),
    ("Education", ["EdTech", "Higher Education"]),
    ("Security", ["Cybersecurity", "Information Security"]),
    ("Other", []),
]
PROVIDERS = [
    ("Email domain", "email_domain", 10, 2.0),
    ("Job title", "job_title", 20, 2.0),
    ("Company directory", "company_directory", 30, 5.0),
]


def seed(apps, schema_editor):
    channel_rule = apps.get_model("leads", "ChannelRule")
    if not channel_rule.objects.exists():
        for order, (channel, condition) in enumerate(CHANNEL_RULES, start=1):
            channel_rule.objects.create(order=order * 10, channel=channel, **condition)
    size_band = apps.get_model("leads", "SizeBand")
    for name, low, high in SIZE_BANDS:
        size_band.objects.get_or_create(name=name, defaults={"min_employees": low, "max_employees": high})
    industry = apps.get_model("leads", "Industry")
    for name, aliases in INDUSTRIES:
        industry.objects.get_or_create(name=name, defaults={"aliases": aliases})
    provider = apps.get_model("leads", "EnrichmentProvider")
    if not provider.objects.exists():
        for name, kind, order, timeout in PROVIDERS:
            provider.objects.create(name=name, kind=kind, order=order, timeout_seconds=timeout)
    routing_rule = apps.get_model("leads", "RoutingRule")
    if not routing_rule.objects.filter(is_default=True).exists():
        routing_rule.objects.create(
            name="Everyone else → general nurture",
            order=1000,
            is_default=True,
            action="nurture",
            nurture_track="General nurture",
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_enrichment_routing_attribution")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
