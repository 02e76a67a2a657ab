"""The limits a marketer or admin tunes are read from the environment, with the defaults that shipped."""

import json

from leads.tests.test_settings import run_manage

SHOW_LIMITS = (
    "import json; from datetime import timedelta; from leads import spam, tokens; "
    "from leads.enrichment.domains import free_mail_domains; from handoff.services import assignment; "
    "from reports.selectors import attribution; "
    "print(json.dumps({'trap': spam.MIN_FILL_DURATION.total_seconds(), 'rate': spam.RATE_LIMIT, "
    "'window': spam.RATE_WINDOW.total_seconds(), 'link': tokens.ASSET_LINK_MAX_AGE.days, "
    "'confirm': tokens.CONFIRM_LINK_MAX_AGE.days, 'sla': assignment.DEFAULT_TERMS.target_duration.total_seconds(), "
    "'position': attribution.SHORT_LABELS['position'], 'free': 'mail.example' in free_mail_domains()}))"
)


def limits(**env: str) -> dict[str, object]:
    result = run_manage("shell", "-c", SHOW_LIMITS, env={"DEBUG": "1", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_limits_default_to_the_shipped_values() -> None:
    assert limits() == {
        "trap": 3.0, "rate": 20, "window": 600.0, "link": 7, "confirm": 7, "sla": 86400.0, "position": "40/20/40",
        "free": False,
    }  # fmt: skip


def test_each_limit_follows_its_environment_variable() -> None:
    tuned = limits(
        FORM_TIME_TRAP_SECONDS="5", FORM_RATE_LIMIT="50", FORM_RATE_WINDOW_MINUTES="30", FORM_LINK_MAX_AGE_DAYS="14",
        DEFAULT_SLA_HOURS="8", ATTRIBUTION_POSITION_FIRST_PERCENT="30", ATTRIBUTION_POSITION_LAST_PERCENT="50",
        FREE_MAIL_EXTRA_DOMAINS="mail.example,post.example",
    )  # fmt: skip

    assert tuned == {
        "trap": 5.0, "rate": 50, "window": 1800.0, "link": 14, "confirm": 14, "sla": 28800.0, "position": "30/20/50",
        "free": True,
    }  # fmt: skip
