"""POST /api/submissions/: a form filled in elsewhere, captured through the public form's own pipeline."""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from handoff import receivers
from integrations.models import ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads import services, spam, submissions, suppression
from leads.api.schema import SUPPRESSED_SUBMISSION_DETAIL
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentSource,
    ConsentStatus,
    FieldKind,
    Lead,
    Submission,
    SubmissionStatus,
    Touch,
)
from leads.tests.factories import (
    FIXED_NOW,
    CaptureFormFactory,
    ConsentTextFactory,
    FormFieldFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/submissions/"
NAIVE_TIME = "Include a UTC offset or Z, as in 2026-03-02T10:00:00Z: a time without one could be in any time zone."
ANSWERS = {"first_name": "Ada", "email": "Ada@Acme.example", "company_name": "Acme", "job_title": "CTO"}
ATTRIBUTION = {
    "utm_source": "linkedin",
    "utm_medium": "paid_social",
    "utm_campaign": "q3-whitepaper",
    "utm_term": "b2b report",
    "utm_content": "carousel",
    "gclid": "Cj0KCQ",
    "referrer": "https://www.linkedin.com/",
    "landing_page": "https://www.acme.example/report",
}


def body(**fields: Any) -> dict[str, Any]:
    """A valid submission of the ``whitepaper`` form; tests pass what they change."""
    return {
        "form": "state-of-b2b",
        "answers": ANSWERS,
        "consent": {"given": True},
        "attribution": ATTRIBUTION,
        "ip_address": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (Test)",
        **fields,
    }


def post(data: object, *, scope: str = ApiKeyScope.CAPTURE, **headers: str) -> Any:
    api_key = ApiKeyFactory(scope=scope)
    return Client().post(URL, data, content_type="application/json", headers={**api_headers(api_key), **headers})


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    return response.json()["errors"]


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """The task queue, which is outside the process: record what is enqueued instead of running it."""
    enqueued: list[tuple[object, ...]] = []
    monkeypatch.setattr(services, "async_task", lambda *args: enqueued.append(args))
    monkeypatch.setattr(receivers, "async_task", lambda *args: enqueued.append(args))  # the pipeline's wake-up
    return enqueued


@pytest.fixture
def webinar() -> CaptureForm:
    form = CaptureFormFactory(slug="webinar", headline="The Pipeline Playbook", is_double_opt_in=True)
    FormFieldFactory(form=form, label="Email", kind=FieldKind.EMAIL, lead_attribute="email", is_required=True)
    ConsentTextFactory(form=form)
    return form


# --- The happy path ---------------------------------------------------------------------------------


def test_the_submission_is_stored_as_sent(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    post(body())

    stored = Submission.objects.get()
    assert (stored.form, stored.consent_text, stored.status) == (
        whitepaper,
        whitepaper.consent_texts.get(),
        SubmissionStatus.CAPTURED,
    )
    # Every field of the form, as the public form stores the fields it showed; unanswered ones blank.
    assert stored.payload == {**ANSWERS, "country": "", "team_size": "", "budget": ""}
    assert stored.attribution == ATTRIBUTION
    assert (stored.ip_address, stored.user_agent) == ("203.0.113.9", "Mozilla/5.0 (Test)")


def test_the_lead_is_captured_from_the_answers(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    post(body())

    lead = Lead.objects.get()
    assert Submission.objects.get().lead == lead
    assert (lead.email, lead.first_name, lead.company_name, lead.job_title) == (
        "ada@acme.example",
        "Ada",
        "Acme",
        "CTO",
    )


def test_the_consent_keeps_the_exact_text_of_the_current_version(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    post(body())

    consent = Consent.objects.get()
    assert (consent.text, consent.text_version) == ("Yes, Acme may email me about its products.", "v1")
    assert (consent.consent_text, consent.status) == (whitepaper.consent_texts.get(), ConsentStatus.CONFIRMED)
    assert (consent.source, consent.source_ref, consent.ip_address) == (
        ConsentSource.API,
        "state-of-b2b",
        "203.0.113.9",
    )


def test_the_touch_keeps_the_attribution(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    post(body())

    touch = Touch.objects.get()
    assert (touch.source, touch.medium, touch.campaign) == ("linkedin", "paid_social", "q3-whitepaper")
    assert (touch.term, touch.content, touch.click_id) == ("b2b report", "carousel", "Cj0KCQ")
    assert (touch.referrer, touch.landing_page) == ("https://www.linkedin.com/", "https://www.acme.example/report")


def test_a_form_submitted_activity_is_recorded(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    post(body())

    activity = Activity.objects.get()
    assert (activity.kind, activity.metadata) == (
        ActivityKind.FORM_SUBMITTED,
        {"form": "state-of-b2b", "submission": Submission.objects.get().pk},
    )


def test_the_response_names_the_submission_the_lead_and_the_consent_status(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    response = post(body())

    assert response.status_code == 201
    assert response.json() == {
        "id": Submission.objects.get().pk,
        "lead_id": Lead.objects.get().pk,
        "status": "captured",
        "consent_status": "confirmed",
    }


def test_the_pipeline_is_enqueued_after_commit(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post(body())
        assert queue == []

    assert queue == [("handoff.tasks.run_pipeline", True)]
    lead = Lead.objects.get()
    assert (lead.pipeline_step, lead.pipeline_due_at is not None) == ("waiting", True)


def test_the_submission_is_stored_even_if_the_queue_fails(
    whitepaper: CaptureForm,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_queue(*args: object) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(receivers, "async_task", broken_queue)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = post(body())

    assert (response.status_code, Submission.objects.count(), Lead.objects.count()) == (201, 1, 1)
    assert Lead.objects.get().pipeline_due_at is not None  # the scheduled run takes it
    assert "Could not queue a pipeline run" in caplog.text


def test_submitted_at_is_when_the_consent_was_given(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    post(body(submitted_at="2026-03-02T09:58:00Z"))

    assert Submission.objects.get().submitted_at == FIXED_NOW - timedelta(minutes=2)
    assert Consent.objects.get().given_at == FIXED_NOW - timedelta(minutes=2)


def test_answers_to_progressive_fields_are_accepted(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    post(body(answers={**ANSWERS, "country": "GB", "team_size": "11-50", "budget": 5000}))

    lead = Lead.objects.get()
    assert (lead.country, lead.custom_answers) == ("GB", {"team_size": "11-50", "budget": 5000})


def test_a_hidden_field_left_out_gets_its_default(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    FormFieldFactory(
        form=whitepaper, kind=FieldKind.HIDDEN, lead_attribute="", answer_key="campaign", default_value="spring"
    )

    post(body())

    assert Lead.objects.get().custom_answers == {"campaign": "spring"}


# --- Consent text versions --------------------------------------------------------------------------


def test_the_consent_text_version_named_is_recorded(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    submissions.update_consent_text(form=whitepaper, text="Acme may call me.", by=None, now=FIXED_NOW)

    post(body(consent={"given": True, "text_version": 1}))

    consent = Consent.objects.get()
    assert (consent.text, consent.text_version) == ("Yes, Acme may email me about its products.", "v1")


def test_without_a_version_the_newest_consent_text_is_recorded(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    submissions.update_consent_text(form=whitepaper, text="Acme may call me.", by=None, now=FIXED_NOW)

    post(body())

    consent = Consent.objects.get()
    assert (consent.text, consent.text_version) == ("Acme may call me.", "v2")


def test_a_consent_text_version_of_another_form_is_refused(whitepaper: CaptureForm, webinar: CaptureForm) -> None:
    other = webinar.consent_texts.get()

    response = post(body(consent={"given": True, "text_version": other.version + 1}))

    assert errors_of(response) == {"consent.text_version": [f"This form has no consent text v{other.version + 1}."]}
    assert not Submission.objects.exists()


# --- Double opt-in ----------------------------------------------------------------------------------


def test_a_double_opt_in_form_leaves_the_consent_pending(webinar: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    response = post({"form": "webinar", "answers": {"email": "ada@acme.example"}, "consent": {"given": True}})

    assert response.json()["consent_status"] == "pending"
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_a_double_opt_in_form_emails_the_confirm_link_once(
    webinar: CaptureForm, mailoutbox: list, django_capture_on_commit_callbacks: Callable
) -> None:
    # Tasks run inline in tests, so the confirmation email is sent on commit.
    with django_capture_on_commit_callbacks(execute=True):
        post({"form": "webinar", "answers": {"email": "ada@acme.example"}, "consent": {"given": True}})

    [email] = mailoutbox
    assert email.to == ["ada@acme.example"]
    assert "/f/confirm/" in email.body


# --- Bad input --------------------------------------------------------------------------------------


def test_an_unknown_form_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(form="no-such-form"))

    assert errors_of(response) == {"form": ["No form has the slug “no-such-form”."]}


def test_an_inactive_form_is_refused(whitepaper: CaptureForm) -> None:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(is_active=False)

    response = post(body())

    assert errors_of(response) == {"form": ["The form “state-of-b2b” is not active; switch it on in admin first."]}
    assert not Submission.objects.exists()


def test_a_missing_required_answer_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(answers={"email": "ada@acme.example", "first_name": "Ada"}))

    assert errors_of(response) == {"answers.company_name": ["This field is required."]}
    assert not Submission.objects.exists()


def test_an_invalid_email_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(answers={**ANSWERS, "email": "ada-at-acme"}))

    assert errors_of(response) == {"answers.email": ["Enter a valid email address."]}


@pytest.mark.parametrize(
    ("consent", "expected"),
    [
        (
            {"given": False},
            {
                "consent.given": [
                    "The person must agree to the consent text (given: true); nothing is stored without consent."
                ]
            },
        ),
        ({}, {"consent.given": ["This field is required."]}),
        (None, {"consent": ["This field may not be null."]}),
        ("yes", {"consent": ["Invalid data. Expected a dictionary, but got str."]}),
    ],
    ids=["given false", "given missing", "no consent", "not an object"],
)
def test_a_submission_without_consent_is_refused(
    whitepaper: CaptureForm, consent: object, expected: dict[str, list[str]]
) -> None:
    response = post(body(consent=consent))

    assert errors_of(response) == expected
    assert not Submission.objects.exists()


def test_an_answer_for_no_field_of_the_form_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(answers={**ANSWERS, "favourite_colour": "teal"}))

    assert errors_of(response) == {"answers.favourite_colour": ["The form has no field “favourite_colour”."]}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"job_title": ["CTO"]}, {"answers.job_title": ["Give a string."]}),
        (
            {"team_size": "12"},
            {"answers.team_size": ["Select a valid choice. 12 is not one of the available choices."]},
        ),
        ({"country": "gb"}, {"answers.country": ["Select a valid choice. gb is not one of the available choices."]}),
        ({"budget": "a lot"}, {"answers.budget": ["Enter a number."]}),
        ({"job_title": "C\u0000TO"}, {"answers.job_title": ["Null characters are not allowed."]}),
    ],
    ids=["list for text", "not a choice", "lower-case country", "not a number", "null character"],
)
def test_an_invalid_answer_is_refused_with_the_forms_message(
    whitepaper: CaptureForm, answer: dict[str, object], expected: dict[str, list[str]]
) -> None:
    response = post(body(answers={**ANSWERS, **answer}))

    assert errors_of(response) == expected


def test_a_form_that_asks_neither_email_nor_phone_cannot_capture_a_lead() -> None:
    form = CaptureFormFactory(slug="company-only")
    FormFieldFactory(form=form, label="Company", lead_attribute="company_name", is_required=True)
    ConsentTextFactory(form=form)

    response = post({"form": "company-only", "answers": {"company_name": "Acme"}, "consent": {"given": True}})

    assert errors_of(response) == {"answers": ["An email address or a phone number is required."]}
    assert not Submission.objects.exists()


def test_a_time_in_the_future_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(submitted_at=(timezone.now() + timedelta(hours=1)).isoformat()))

    assert errors_of(response) == {"submitted_at": ["The time is in the future."]}


def test_a_time_before_the_years_a_page_can_show_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(submitted_at="0001-01-01T00:00:00Z"))

    assert errors_of(response) == {"submitted_at": ["Give a time between the years 1900 and 9998."]}
    assert not Submission.objects.exists()


def test_a_time_without_a_utc_offset_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(submitted_at="2026-03-02T09:58:00"))

    assert errors_of(response) == {"submitted_at": [NAIVE_TIME]}
    assert not Submission.objects.exists()


def test_a_body_that_is_not_an_object_is_refused(whitepaper: CaptureForm) -> None:
    response = post([body()])

    assert errors_of(response) == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


# --- Spam rules and idempotency ---------------------------------------------------------------------


def test_the_forms_per_address_rate_limit_does_not_apply(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    for i in range(spam.RATE_LIMIT + 1):
        answers = {**ANSWERS, "email": f"person{i}@acme.example"}
        Client().post(URL, body(answers=answers), content_type="application/json", headers=api_headers(api_key))

    assert not Submission.objects.exclude(status=SubmissionStatus.CAPTURED).exists()
    assert Lead.objects.count() == spam.RATE_LIMIT + 1


def test_two_identical_posts_without_an_idempotency_key_are_two_submissions(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    for _ in range(2):
        Client().post(URL, body(), content_type="application/json", headers=api_headers(api_key))

    assert (Submission.objects.count(), Lead.objects.count(), Consent.objects.count()) == (2, 1, 2)


def test_the_same_submission_posted_twice_with_one_idempotency_key_is_one_submission(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    headers = {**api_headers(api_key), "Idempotency-Key": "zoom-registration-8812"}

    first = Client().post(URL, body(), content_type="application/json", headers=headers)
    retry = Client().post(URL, body(), content_type="application/json", headers=headers)

    assert (retry.status_code, retry.content, retry["Idempotent-Replayed"]) == (201, first.content, "true")
    assert (Submission.objects.count(), Consent.objects.count(), Activity.objects.count()) == (1, 1, 1)


def test_a_key_over_its_rate_limit_gets_429(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]], settings: Any
) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/min", "user": "1/min", "anon": "1/min"},
    }
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    Client().post(URL, body(), content_type="application/json", headers=api_headers(api_key))

    response = Client().post(URL, body(), content_type="application/json", headers=api_headers(api_key))

    assert (response.status_code, Submission.objects.count()) == (429, 1)


# --- Who may submit ---------------------------------------------------------------------------------


def test_anonymous_requests_are_refused_with_401(whitepaper: CaptureForm) -> None:
    response = Client().post(URL, body(), content_type="application/json")

    assert (response.status_code, Submission.objects.count()) == (401, 0)


def test_a_read_only_key_is_refused(whitepaper: CaptureForm) -> None:
    response = post(body(), scope=ApiKeyScope.READ)

    assert (response.status_code, Submission.objects.count()) == (403, 0)


def test_a_full_key_may_submit(whitepaper: CaptureForm, queue: list[tuple[object, ...]]) -> None:
    assert post(body(), scope=ApiKeyScope.FULL).status_code == 201


def test_a_marketers_token_is_refused(whitepaper: CaptureForm, marketer: object) -> None:
    api_key = ApiKeyFactory(user=marketer, scope=ApiKeyScope.CAPTURE)

    response = Client().post(URL, body(), content_type="application/json", headers=api_headers(api_key))

    assert (response.status_code, Submission.objects.count()) == (403, 0)


def test_a_person_allowed_to_add_submissions_may_submit(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    person = UserFactory()
    person.user_permissions.add(Permission.objects.get(codename="add_submission", content_type__app_label="leads"))
    api_key = ApiKeyFactory(user=person, scope=ApiKeyScope.CAPTURE)

    response = Client().post(URL, body(), content_type="application/json", headers=api_headers(api_key))

    assert response.status_code == 201


def test_get_is_not_allowed() -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)

    response = Client().get(URL, headers=api_headers(api_key))

    assert response.status_code == 405


# --- A late sync of a person erased (or who objected) since ------------------------------------------


@pytest.fixture
def badge_form() -> CaptureForm:
    """An event app's form: a name and a phone number, no email."""
    form = CaptureFormFactory(slug="badge-scan")
    FormFieldFactory(form=form, order=1, label="First name", lead_attribute="first_name", is_required=True)
    FormFieldFactory(form=form, order=2, label="Phone", kind=FieldKind.PHONE, lead_attribute="phone")
    FormFieldFactory(form=form, order=3, label="Country", kind=FieldKind.COUNTRY, lead_attribute="country")
    ConsentTextFactory(form=form)
    return form


@pytest.mark.usefixtures("clock")
def test_a_submission_sent_before_its_address_was_suppressed_is_refused_with_409(whitepaper: CaptureForm) -> None:
    """Synced after the person was erased (or objected), it would bring them back: refused, nothing stored."""
    suppression.suppress_address(email="ada@acme.example", reason="Erased", now=FIXED_NOW - timedelta(hours=1))

    response = post(body(submitted_at="2026-03-02T08:00:00Z"))

    assert response.status_code == 409, response.content
    assert response.json() == {
        "detail": SUPPRESSED_SUBMISSION_DETAIL,
        "errors": {"answers.email": [submissions.SUPPRESSED_SINCE_SENT]},
    }
    assert (Submission.objects.count(), Lead.objects.count(), Consent.objects.count()) == (0, 0, 0)


@pytest.mark.usefixtures("clock")
def test_a_phone_only_submission_sent_before_its_number_was_suppressed_is_refused(badge_form: CaptureForm) -> None:
    """Without an email the person is known by their number, however the other system wrote it."""
    suppression.suppress_address(email=None, phone="+442071838750", reason="Erased", now=FIXED_NOW - timedelta(hours=1))
    answers = {"first_name": "Ada", "phone": "020 7183 8750", "country": "GB"}

    response = post(body(form="badge-scan", answers=answers, submitted_at="2026-03-02T08:00:00Z"))

    assert response.status_code == 409, response.content
    assert response.json()["errors"] == {"answers.phone": [submissions.SUPPRESSED_SINCE_SENT]}
    assert not Submission.objects.exists()


@pytest.mark.usefixtures("clock")
def test_a_submission_sent_after_its_address_was_suppressed_is_a_new_lead(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    """The person's own new request, as from the form's page."""
    suppression.suppress_address(email="ada@acme.example", reason="Erased", now=FIXED_NOW - timedelta(hours=3))

    response = post(body(submitted_at="2026-03-02T08:00:00Z"))

    assert response.status_code == 201, response.content
    assert Lead.objects.get().email == "ada@acme.example"


@pytest.mark.usefixtures("clock")
def test_a_refused_late_submission_is_not_replayed_for_its_idempotency_key(whitepaper: CaptureForm) -> None:
    """A refusal is not kept: the same key gets the refusal again, never a stored answer."""
    suppression.suppress_address(email="ada@acme.example", reason="Erased", now=FIXED_NOW - timedelta(hours=1))
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    headers = {**api_headers(api_key), "Idempotency-Key": "zoom-registration-8812"}
    late = body(submitted_at="2026-03-02T08:00:00Z")

    first = Client().post(URL, late, content_type="application/json", headers=headers)
    retry = Client().post(URL, late, content_type="application/json", headers=headers)

    assert (first.status_code, retry.status_code) == (409, 409)
    assert "Idempotent-Replayed" not in retry
    assert not Submission.objects.exists()


@pytest.mark.usefixtures("clock")
def test_a_submission_sent_minutes_ago_is_not_checked_against_the_suppression_list(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]]
) -> None:
    """The ordinary capture (sent now, or synced within minutes) pays no query for the list."""
    with CaptureQueriesContext(connection) as queries:
        response = post(body(submitted_at="2026-03-02T09:58:00Z"))

    assert response.status_code == 201, response.content
    assert not [query for query in queries.captured_queries if "suppressedaddress" in query["sql"]]
