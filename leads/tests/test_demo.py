import pytest
from django.core.management import call_command
from django.test import Client

from leads import demo
from leads.models import CaptureForm, Consent, Lead, LegalBasis, Stage, StageChange
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


def test_demo_leads_in_sales_belong_to_their_companys_rep() -> None:
    users = demo.ensure_demo_users()
    reps = [users[f"rep{i}"] for i in range(1, 5)]
    rep_of = {company.domain: company.rep for company in demo.COMPANIES}

    demo.load_demo_leads(count=64, reps=reps, now=FIXED_NOW)

    in_sales = list(Lead.objects.filter(stage__in=demo.SALES_STAGES).select_related("owner"))
    assert in_sales
    assert [
        (lead.company_domain, lead.owner)
        for lead in in_sales
        if lead.owner is None or lead.owner.username != f"rep{rep_of[lead.company_domain]}"  # no rep: "repNone"
    ] == []


def test_bulk_leads_top_up_to_the_requested_total() -> None:
    demo.bulk_create_leads(total=120, reps=[], now=FIXED_NOW, batch_size=50)

    added = demo.bulk_create_leads(total=300, reps=[], now=FIXED_NOW, batch_size=50)

    assert added == 180
    assert Lead.objects.filter(email__startswith=demo.BULK_PREFIX).count() == 300


def test_demo_forms_are_created_once() -> None:
    first = demo.ensure_demo_forms(now=FIXED_NOW)

    second = demo.ensure_demo_forms(now=FIXED_NOW)

    assert (first, second) == (3, 0)
    assert set(CaptureForm.objects.values_list("slug", flat=True)) == {
        "b2b-demand-gen-report",
        "webinar-pipeline-playbook",
        "pricing-sheet",
    }


def test_load_demo_creates_a_white_paper_a_webinar_and_a_pricing_sheet_form() -> None:
    call_command("load_demo", demo_leads=0)

    names = list(CaptureForm.objects.order_by("name").values_list("name", flat=True))
    assert [name.split(":")[0] for name in names] == ["Pricing-sheet request", "Webinar sign-up", "White paper"]


def test_each_demo_form_opens_for_visitors() -> None:
    demo.ensure_demo_forms(now=FIXED_NOW)

    statuses = [Client().get(f"/f/{form.slug}/").status_code for form in CaptureForm.objects.all()]

    assert statuses == [200, 200, 200]


def test_the_demo_white_paper_is_a_pdf_download() -> None:
    demo.ensure_demo_forms(now=FIXED_NOW)

    form = CaptureForm.objects.get(slug="b2b-demand-gen-report")
    with form.asset_file.open("rb") as asset:
        content = asset.read()
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")


def test_the_demo_forms_show_double_opt_in_and_legitimate_interest() -> None:
    demo.ensure_demo_forms(now=FIXED_NOW)

    webinar = CaptureForm.objects.get(slug="webinar-pipeline-playbook")
    pricing = CaptureForm.objects.get(slug="pricing-sheet")
    assert webinar.is_double_opt_in
    assert pricing.legal_basis == LegalBasis.LEGITIMATE_INTEREST
