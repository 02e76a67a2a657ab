import pytest
from django.core.management import call_command

from leads import demo
from leads.models import Consent, Lead, Stage, StageChange
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


def test_load_demo_twice_creates_nothing_twice() -> None:
    call_command("load_demo", demo_leads=20)
    counts = (Lead.objects.count(), Consent.objects.count(), StageChange.objects.count())

    call_command("load_demo", demo_leads=20)

    assert (Lead.objects.count(), Consent.objects.count(), StageChange.objects.count()) == counts
    assert counts[0] == 20


def test_demo_users_sign_in_with_the_demo_password(settings: object) -> None:
    settings.DEMO_PASSWORD = "s3cret-demo"  # type: ignore[attr-defined]

    users = demo.ensure_demo_users()

    assert set(users) == {"marketer", "manager", "rep1", "rep2", "rep3", "rep4"}
    assert users["rep3"].check_password("s3cret-demo")


def test_demo_leads_cover_several_stages_countries_and_sources() -> None:
    reps = list(demo.ensure_demo_users().values())

    demo.load_demo_leads(count=60, reps=reps, now=FIXED_NOW)

    assert Lead.objects.values("stage").distinct().count() >= 4
    assert Lead.objects.values("country").distinct().count() >= 5
    assert Lead.objects.filter(touches__medium="podcast").exists()
    assert not Lead.objects.filter(stage=Stage.SQL, owner__isnull=True).exists()


def test_bulk_leads_top_up_to_the_requested_total() -> None:
    demo.bulk_create_leads(total=120, reps=[], now=FIXED_NOW, batch_size=50)

    added = demo.bulk_create_leads(total=300, reps=[], now=FIXED_NOW, batch_size=50)

    assert added == 180
    assert Lead.objects.filter(email__startswith=demo.BULK_PREFIX).count() == 300
