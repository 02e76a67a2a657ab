import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leads import services
from leads.models import Activity, ActivityKind, Consent, ConsentSource, Lead, LegalBasis, Stage, StageChange, Touch
from leads.tests.factories import FIXED_NOW, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

CONSENT = services.ConsentDetails(
    legal_basis=LegalBasis.OPT_IN,
    text="Yes, Acme may email me about Acme products.",
    text_version="2026-01",
    source=ConsentSource.FORM,
    source_ref="whitepaper",
    ip_address="203.0.113.9",
)


def capture(now: object = FIXED_NOW, **details: object) -> services.CaptureResult:
    return services.capture_lead(
        details=services.LeadDetails(**details),  # type: ignore[arg-type]
        consent=CONSENT,
        activity_kind=ActivityKind.FORM_SUBMITTED,
        now=now,  # type: ignore[arg-type]
    )


def test_capture_stores_the_email_normalised() -> None:
    result = capture(email="  Ada.Lovelace@ACME.example ", first_name="Ada")

    assert result.lead.email == "ada.lovelace@acme.example"
    assert result.is_new


def test_capture_with_differently_cased_email_finds_the_same_lead() -> None:
    first = capture(email="ada@acme.example")

    second = capture(email="ADA@Acme.Example")

    assert second.lead.pk == first.lead.pk
    assert not second.is_new
    assert Lead.objects.count() == 1


def test_repeat_capture_keeps_known_values_the_new_one_leaves_blank() -> None:
    capture(email="ada@acme.example", first_name="Ada", job_title="CTO", company_name="Acme", country="GB")

    capture(email="ada@acme.example", first_name="", job_title="", company_name="", country="")

    lead = Lead.objects.get()
    assert (lead.first_name, lead.job_title, lead.company_name, lead.country) == ("Ada", "CTO", "Acme", "GB")


def test_repeat_capture_adds_new_custom_answers_and_keeps_the_old_ones() -> None:
    capture(email="ada@acme.example", custom_answers={"budget": "10k", "team_size": "5"})

    # A differing answer is only proposed (the merge policy, test_merge_policy.py); a new one is added.
    capture(email="ada@acme.example", custom_answers={"team_size": "8", "budget": "", "seats": 3})

    assert Lead.objects.get().custom_answers == {"budget": "10k", "team_size": "5", "seats": 3}


def test_each_capture_adds_a_consent_with_the_exact_text_and_an_activity() -> None:
    capture(email="ada@acme.example")
    capture(email="ada@acme.example", now=FIXED_NOW + timedelta(days=1))

    consents = Consent.objects.order_by("given_at")
    assert [c.text for c in consents] == [CONSENT.text, CONSENT.text]
    assert consents[0].given_at == FIXED_NOW
    assert consents[0].ip_address == "203.0.113.9"
    assert Activity.objects.filter(kind=ActivityKind.FORM_SUBMITTED).count() == 2


def test_capture_records_the_touch_with_its_utm_values() -> None:
    touch = services.TouchDetails(source="google", medium="cpc", campaign="brand")

    result = services.capture_lead(
        details=services.LeadDetails(email="ada@acme.example"),
        consent=None,
        activity_kind=ActivityKind.FORM_SUBMITTED,
        touch=touch,
        now=FIXED_NOW,
    )

    stored = Touch.objects.get(lead=result.lead)
    assert (stored.source, stored.medium, stored.campaign, stored.occurred_at) == ("google", "cpc", "brand", FIXED_NOW)


def test_capture_accepts_a_phone_only_lead_stored_as_e164() -> None:
    result = capture(phone="020 7183 8750", country="gb")

    assert result.lead.email is None
    assert result.lead.phone == "+442071838750"
    assert result.lead.country == "GB"


def test_phone_only_lead_who_later_gives_an_email_stays_one_lead() -> None:
    first = capture(phone="+44 20 7183 8750")

    second = capture(phone="02071838750", country="GB", email="ada@acme.example")

    assert second.lead.pk == first.lead.pk
    assert Lead.objects.count() == 1


def test_capture_without_email_or_phone_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        capture(first_name="Ada")

    assert "email" in error.value.message_dict
    assert Lead.objects.count() == 0


def test_capture_with_a_malformed_email_is_refused_and_stores_nothing() -> None:
    with pytest.raises(ValidationError):
        capture(email="ada@")

    assert Lead.objects.count() == 0
    assert Consent.objects.count() == 0


def test_capture_with_an_overlong_country_is_a_validation_error_not_a_database_error() -> None:
    with pytest.raises(ValidationError):
        capture(email="ada@acme.example", country="United Kingdom")


def test_change_stage_writes_a_stage_change_with_who_when_and_why() -> None:
    lead = LeadFactory(stage=Stage.NEW)
    rep = UserFactory()
    when = FIXED_NOW + timedelta(hours=2)

    services.change_stage(lead=lead, to_stage=Stage.MQL, now=when, by=rep, reason="Score 72")

    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.changed_by, change.changed_at, change.reason) == (
        Stage.NEW,
        Stage.MQL,
        rep,
        when,
        "Score 72",
    )
    lead.refresh_from_db()
    assert (lead.stage, lead.stage_changed_at) == (Stage.MQL, when)


def test_every_stage_change_leaves_one_record() -> None:
    lead = LeadFactory(stage=Stage.NEW)

    for stage in (Stage.NURTURE, Stage.MQL, Stage.SQL):
        services.change_stage(lead=lead, to_stage=stage, now=FIXED_NOW)

    history = list(StageChange.objects.filter(lead=lead).order_by("id").values_list("from_stage", "to_stage"))
    assert history == [("new", "nurture"), ("nurture", "mql"), ("mql", "sql")]


def test_change_to_the_current_stage_records_nothing() -> None:
    lead = LeadFactory(stage=Stage.NURTURE)

    services.change_stage(lead=lead, to_stage=Stage.NURTURE, now=FIXED_NOW)

    assert not StageChange.objects.exists()


def test_change_stage_refuses_a_transition_the_lifecycle_does_not_allow() -> None:
    lead = LeadFactory(stage=Stage.NEW)

    with pytest.raises(services.StageTransitionError):
        services.change_stage(lead=lead, to_stage=Stage.SQL, now=FIXED_NOW)

    lead.refresh_from_db()
    assert lead.stage == Stage.NEW
    assert not StageChange.objects.exists()


def test_change_stage_on_a_stale_copy_raises_conflict_and_changes_nothing() -> None:
    lead = LeadFactory(stage=Stage.MQL)
    stale = Lead.objects.get(pk=lead.pk)
    services.change_stage(lead=lead, to_stage=Stage.SQL, now=FIXED_NOW)

    with pytest.raises(services.StageConflictError):
        services.change_stage(lead=stale, to_stage=Stage.REJECTED, now=FIXED_NOW)

    assert Lead.objects.get(pk=lead.pk).stage == Stage.SQL
    assert StageChange.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL")
def test_concurrent_captures_of_one_person_make_one_lead() -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            capture(email="race@acme.example", first_name="Ada")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Lead.objects.filter(email="race@acme.example").count() == 1
    assert Activity.objects.count() == 4


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL")
def test_a_capture_that_loses_the_race_for_a_new_person_merges_into_the_winner(monkeypatch: pytest.MonkeyPatch) -> None:
    # The winner stores the person between the loser's lookup (which found nobody) and its INSERT.
    winner = LeadFactory(email="race@acme.example", first_name="")
    find_lead, lookups = services._find_lead, []

    def lookup(**kwargs: str) -> Lead | None:
        lookups.append(kwargs)
        return None if len(lookups) == 1 else find_lead(**kwargs)

    monkeypatch.setattr(services, "_find_lead", lookup)

    result = capture(email="race@acme.example", first_name="Ada")

    assert (len(lookups), result.is_new, result.lead.pk) == (2, False, winner.pk)
    assert Lead.objects.filter(email="race@acme.example").count() == 1
    assert Lead.objects.get(pk=winner.pk).first_name == "Ada"
