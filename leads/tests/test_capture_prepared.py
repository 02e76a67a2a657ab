"""What a capture does before and inside its write transaction, and the hand-written reads on its way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leads import services, spam, submissions, tokens
from leads.models import Activity, CaptureForm, Lead, ProposedChange, SpamReason, Submission, SubmissionStatus
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db

ANSWERS = {"first_name": "Ada", "email": "ada@acme.example", "company_name": "Acme"}


def submit(
    form: CaptureForm,
    *,
    nonce: str,
    answers: dict[str, Any] | None = None,
    ip_address: str | None = "203.0.113.9",
    now: Any = FIXED_NOW,
) -> submissions.SubmitResult:
    consent_text = form.consent_texts.order_by("-version").first()
    assert consent_text is not None
    return submissions.submit_form(
        form=form,
        render=tokens.RenderToken(
            form_id=form.pk,
            consent_text_id=consent_text.pk,
            field_ids=(),
            nonce=nonce,
            rendered_at=now - timedelta(minutes=1),
        ),
        consent_text=consent_text,
        answers=ANSWERS if answers is None else answers,
        attribution={"utm_source": "linkedin"},
        honeypot="",
        client=submissions.ClientInfo(ip_address=ip_address, user_agent="Mozilla/5.0 (Test)"),
        now=now,
    )


def submit_from_api(form: CaptureForm, *, email: str, ip_address: str, now: Any = FIXED_NOW) -> None:
    submissions.submit_form_from_api(
        form=form,
        consent_text=form.consent_texts.order_by("-version")[0],
        answers={**ANSWERS, "email": email},
        attribution={},
        client=submissions.ClientInfo(ip_address=ip_address, user_agent=""),
        now=now,
    )


def statements_of(action: Callable[[], Any], sql: list[str] | None = None) -> list[str]:
    """The statements ``action`` sent, recorded in ``sql`` (so they are there too when it raises)."""
    sql = [] if sql is None else sql

    def record(execute: Callable[..., Any], query: str, params: Any, many: bool, context: Any) -> Any:
        sql.append(query)
        return execute(query, params, many, context)

    with connection.execute_wrapper(record):
        action()
    return sql


# --- The submission is stored with its lead -----------------------------------------------------------


def test_a_captured_submission_is_inserted_with_its_lead_and_consent_and_never_updated(
    whitepaper: CaptureForm,
) -> None:
    sql = statements_of(lambda: submit(whitepaper, nonce="n1"))

    submission = Submission.objects.get()
    assert (submission.lead, submission.consent) == (Lead.objects.get(), submission.lead.consents.get())
    assert not [query for query in sql if query.startswith(f'UPDATE "{Submission._meta.db_table}"')]


def test_the_form_submitted_activity_names_the_stored_submission(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper, nonce="n1").submission

    assert Activity.objects.get().metadata == {"form": whitepaper.slug, "submission": submission.pk}


def test_a_returning_persons_proposed_change_names_the_submission_it_came_with(whitepaper: CaptureForm) -> None:
    submit(whitepaper, nonce="n1")

    second = submit(whitepaper, nonce="n2", answers={**ANSWERS, "company_name": "Acme Ltd"}).submission

    assert ProposedChange.objects.get().submission == second


def test_a_repeated_render_leaves_one_submission_one_lead_and_one_consent(whitepaper: CaptureForm) -> None:
    first = submit(whitepaper, nonce="same").submission

    again = submit(whitepaper, nonce="same", answers={**ANSWERS, "email": "someone-else@acme.example"})

    assert again.is_duplicate
    assert again.submission == first
    assert list(Lead.objects.values_list("email", flat=True)) == ["ada@acme.example"]
    assert Lead.objects.get().consents.count() == 1


def test_a_value_no_lead_may_hold_is_refused_before_the_write_transaction_opens(whitepaper: CaptureForm) -> None:
    answers = {**ANSWERS, "country": "GBR-TOO-LONG"}

    sql: list[str] = []

    with pytest.raises(ValidationError) as raised:
        statements_of(lambda: submit(whitepaper, nonce="n1", answers=answers), sql)

    assert "country" in raised.value.message_dict
    # The test runs inside its own transaction, where the capture's ``atomic()`` sends a SAVEPOINT, not a BEGIN.
    opened = ("BEGIN", "SAVEPOINT", "INSERT", "UPDATE")
    assert not [query for query in sql if query.upper().startswith(opened)]
    assert not Submission.objects.exists()


def test_a_prepared_lead_is_captured_like_its_details(whitepaper: CaptureForm) -> None:
    details = services.LeadDetails(email=" Ada@Acme.example ", first_name="Ada", custom_answers={"team": "5"})
    prepared = services.prepare_lead(details=details, source=services.merge.Source.PERSON, now=FIXED_NOW)

    result = services.capture_lead(details=prepared, consent=None, activity_kind="form_submitted", now=FIXED_NOW)

    lead = Lead.objects.get()
    assert result.is_new
    assert (lead.email, lead.first_name, lead.custom_answers) == ("ada@acme.example", "Ada", {"team": "5"})


# --- The per-address rate limit, counted by hand-written SQL -------------------------------------------


def fill_the_limit(form: CaptureForm, *, ip_address: str | None, now: Any = FIXED_NOW) -> None:
    for i in range(spam.RATE_LIMIT):
        submit(form, nonce=f"n{i}", answers={**ANSWERS, "email": f"p{i}@acme.example"}, ip_address=ip_address, now=now)


def test_a_submission_just_inside_the_window_still_counts(whitepaper: CaptureForm) -> None:
    fill_the_limit(whitepaper, ip_address="203.0.113.9")

    later = FIXED_NOW + spam.RATE_WINDOW - timedelta(microseconds=1)
    over = submit(whitepaper, nonce="over", answers={**ANSWERS, "email": "x@acme.example"}, now=later).submission

    assert (over.status, over.spam_reason) == (SubmissionStatus.SPAM, SpamReason.RATE_LIMITED)


def test_submissions_without_an_address_share_one_budget(whitepaper: CaptureForm) -> None:
    fill_the_limit(whitepaper, ip_address=None)

    over = submit(whitepaper, nonce="over", answers={**ANSWERS, "email": "x@acme.example"}, ip_address=None)

    assert over.submission.spam_reason == SpamReason.RATE_LIMITED


def test_api_submissions_from_the_address_do_not_count_towards_its_form_limit(whitepaper: CaptureForm) -> None:
    for i in range(spam.RATE_LIMIT):
        submit_from_api(whitepaper, email=f"api{i}@acme.example", ip_address="203.0.113.9")

    visitor = submit(whitepaper, nonce="visitor").submission

    assert visitor.status == SubmissionStatus.CAPTURED


def test_an_address_without_recent_submissions_sends_its_first() -> None:
    assert spam.count_submission_from(ip_address="203.0.113.9", now=FIXED_NOW) == 1
