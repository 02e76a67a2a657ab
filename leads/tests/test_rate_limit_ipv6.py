"""The per-address rate limit knows an IPv6 address however the request writes it (the ORM stores it compressed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leads import spam
from leads.models import SpamReason
from leads.tests.factories import FIXED_NOW, ConsentTextFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


def fill_the_limit_from(ip_address: str) -> None:
    consent_text = ConsentTextFactory()
    SubmissionFactory.create_batch(
        spam.RATE_LIMIT, form=consent_text.form, consent_text=consent_text, ip_address=ip_address
    )


def test_submissions_from_an_ipv6_address_count_for_the_address_written_another_way() -> None:
    fill_the_limit_from("2001:db8::1")

    count = spam.count_submission_from(ip_address="2001:DB8:0:0::1", now=FIXED_NOW)

    assert count == spam.RATE_LIMIT + 1


def test_an_ipv6_address_written_another_way_is_held_past_the_limit() -> None:
    fill_the_limit_from("2001:db8::1")

    verdict = spam.check_submission(
        honeypot="",
        rendered_at=FIXED_NOW - timedelta(minutes=1),
        ip_address="2001:DB8:0:0::1",
        now=FIXED_NOW,
    )

    assert verdict is not None
    assert verdict.reason == SpamReason.RATE_LIMITED
