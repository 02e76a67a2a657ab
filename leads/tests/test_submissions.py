import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from handoff import receivers
from leads import services, spam, submissions, suppression, tasks, tokens
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentStatus,
    ConsentText,
    Lead,
    SpamReason,
    Submission,
    SubmissionStatus,
    Touch,
)
from leads.tests.factories import FIXED_NOW, CaptureFormFactory, ConsentTextFactory, FormFieldFactory, UserFactory

pytestmark = pytest.mark.django_db

ANSWERS = {"first_name": "Ada", "email": "Ada@Acme.example", "company_name": "Acme", "job_title": "CTO"}
ATTRIBUTION = {
    "utm_source": "linkedin",
    "utm_medium": "paid_social",
    "utm_campaign": "q3-whitepaper",
    "utm_term": "b2b report",
    "utm_content": "carousel",
    "gclid": "Cj0KCQ",
    "referrer": "https://www.linkedin.com/",
    "landing_page": "https://www.acme.example/report?utm_source=linkedin",
}


def submit(
    form: CaptureForm,
    *,
    answers: dict[str, Any] | None = None,
    nonce: str = "nonce-1",
    honeypot: str = "",
    ip_address: str = "203.0.113.9",
    rendered_at: Any = FIXED_NOW - timedelta(minutes=1),
    now: Any = FIXED_NOW,
    consent_text: ConsentText | None = None,
) -> submissions.SubmitResult:
    consent_text = consent_text or form.consent_texts.order_by("-version").first()
    return submissions.submit_form(
        form=form,
        render=tokens.RenderToken(
            form_id=form.pk, consent_text_id=consent_text.pk, field_ids=(), nonce=nonce, rendered_at=rendered_at
        ),
        consent_text=consent_text,
        answers=ANSWERS if answers is None else answers,
        attribution=ATTRIBUTION,
        honeypot=honeypot,
        client=submissions.ClientInfo(ip_address=ip_address, user_agent="Mozilla/5.0 (Test)"),
        now=now,
    )


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """The task queue, which is outside the process: record what is enqueued instead of running it."""
    enqueued: list[tuple[object, ...]] = []
    monkeypatch.setattr(services, "async_task", lambda *args: enqueued.append(args))
    monkeypatch.setattr(receivers, "async_task", lambda *args: enqueued.append(args))  # the pipeline's wake-up
    return enqueued


def test_submit_stores_the_raw_submission(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper).submission

    stored = Submission.objects.get()
    assert stored == submission
    assert stored.payload == ANSWERS
    assert stored.attribution == ATTRIBUTION
    assert stored.consent_text == whitepaper.consent_texts.get()
    assert (stored.ip_address, stored.user_agent) == ("203.0.113.9", "Mozilla/5.0 (Test)")
    assert (stored.submitted_at, stored.idempotency_key) == (FIXED_NOW, "nonce-1")


def test_submit_captures_the_lead_through_the_capture_service(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper).submission

    lead = Lead.objects.get()
    assert submission.lead == lead
    assert (lead.email, lead.first_name, lead.company_name, lead.job_title) == (
        "ada@acme.example",
        "Ada",
        "Acme",
        "CTO",
    )


def test_custom_answers_go_to_the_lead_custom_answers(whitepaper: CaptureForm) -> None:
    submit(whitepaper, answers={**ANSWERS, "team_size": "11-50", "budget": 5000})

    assert Lead.objects.get().custom_answers == {"team_size": "11-50", "budget": 5000}


def test_the_consent_keeps_the_exact_text_and_version_shown(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper).submission

    consent = Consent.objects.get()
    assert submission.consent == consent
    assert consent.text == "Yes, Acme may email me about its products."
    assert (consent.consent_text, consent.text_version) == (whitepaper.consent_texts.get(), "v1")
    assert (consent.source_ref, consent.ip_address, consent.given_at) == ("state-of-b2b", "203.0.113.9", FIXED_NOW)
    assert consent.status == ConsentStatus.CONFIRMED


def test_the_touch_keeps_utm_values_click_id_referrer_and_landing_page(whitepaper: CaptureForm) -> None:
    submit(whitepaper)

    touch = Touch.objects.get()
    assert (touch.source, touch.medium, touch.campaign) == ("linkedin", "paid_social", "q3-whitepaper")
    assert (touch.term, touch.content, touch.click_id) == ("b2b report", "carousel", "Cj0KCQ")
    assert touch.referrer == "https://www.linkedin.com/"
    assert touch.landing_page == "https://www.acme.example/report?utm_source=linkedin"


def test_submit_records_a_form_submitted_activity(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper).submission

    activity = Activity.objects.get()
    assert activity.kind == ActivityKind.FORM_SUBMITTED
    assert activity.metadata == {"form": "state-of-b2b", "submission": submission.pk}


def test_double_submit_of_one_rendered_form_creates_one_submission(whitepaper: CaptureForm) -> None:
    first = submit(whitepaper, nonce="same-render")

    second = submit(whitepaper, nonce="same-render", now=FIXED_NOW + timedelta(seconds=1))

    assert second.is_duplicate
    assert second.submission == first.submission
    assert (Submission.objects.count(), Lead.objects.count(), Consent.objects.count()) == (1, 1, 1)


def test_a_repeat_submission_is_the_same_lead_with_a_new_submission(whitepaper: CaptureForm) -> None:
    submit(whitepaper, nonce="visit-1", answers={**ANSWERS, "team_size": "1-10"})

    submit(
        whitepaper,
        nonce="visit-2",
        answers={"email": "ada@acme.example", "first_name": "Ada", "country": "GB", "budget": 900},
        now=FIXED_NOW + timedelta(days=3),
    )

    lead = Lead.objects.get()
    assert (lead.job_title, lead.country) == ("CTO", "GB")
    assert lead.custom_answers == {"team_size": "1-10", "budget": 900}
    assert lead.submissions.count() == 2
    assert lead.consents.count() == 2


def test_the_same_person_on_another_form_is_the_same_lead(whitepaper: CaptureForm) -> None:
    webinar = CaptureFormFactory(slug="webinar")
    ConsentTextFactory(form=webinar)
    submit(whitepaper, nonce="wp")

    submit(webinar, nonce="webinar", answers={"email": "ada@acme.example"})

    assert Lead.objects.count() == 1
    assert set(Submission.objects.values_list("form__slug", flat=True)) == {"state-of-b2b", "webinar"}


def test_a_filled_honeypot_marks_spam_and_keeps_the_submission_without_a_lead(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper, honeypot="https://cheap-pills.example").submission

    stored = Submission.objects.get()
    assert stored == submission
    assert (stored.status, stored.spam_reason) == (SubmissionStatus.SPAM, SpamReason.HONEYPOT)
    assert stored.payload == ANSWERS
    assert stored.lead is None
    assert not Lead.objects.exists()


def test_a_submit_faster_than_a_person_marks_spam(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper, rendered_at=FIXED_NOW - timedelta(seconds=1)).submission

    assert (submission.status, submission.spam_reason) == (SubmissionStatus.SPAM, SpamReason.TOO_FAST)
    assert "1.0 s" in submission.spam_detail
    assert not Lead.objects.exists()


def test_submissions_beyond_the_rate_limit_are_marked_spam(whitepaper: CaptureForm) -> None:
    for i in range(spam.RATE_LIMIT):
        submit(whitepaper, nonce=f"n{i}", answers={"email": f"person{i}@acme.example"})

    over = submit(whitepaper, nonce="over", answers={"email": "one-more@acme.example"}).submission

    assert (over.status, over.spam_reason) == (SubmissionStatus.SPAM, SpamReason.RATE_LIMITED)
    assert Submission.objects.filter(status=SubmissionStatus.CAPTURED).count() == spam.RATE_LIMIT
    assert not Lead.objects.filter(email="one-more@acme.example").exists()


def test_the_rate_limit_counts_each_address_on_its_own(whitepaper: CaptureForm) -> None:
    for i in range(spam.RATE_LIMIT):
        submit(whitepaper, nonce=f"n{i}", answers={"email": f"person{i}@acme.example"})

    other = submit(whitepaper, nonce="other", ip_address="198.51.100.7").submission

    assert other.status == SubmissionStatus.CAPTURED


def test_the_rate_limit_starts_again_in_the_next_window(whitepaper: CaptureForm) -> None:
    for i in range(spam.RATE_LIMIT):
        submit(whitepaper, nonce=f"n{i}", answers={"email": f"person{i}@acme.example"})

    later = submit(whitepaper, nonce="later", now=FIXED_NOW + spam.RATE_WINDOW).submission

    assert later.status == SubmissionStatus.CAPTURED


def test_releasing_spam_captures_its_lead_with_consent_and_touch(whitepaper: CaptureForm) -> None:
    held = submit(whitepaper, honeypot="filled by autofill").submission
    marketer = UserFactory()

    released = submissions.release_submission(submission=held, by=marketer, now=FIXED_NOW + timedelta(hours=2))

    held.refresh_from_db()
    assert released
    assert held.status == SubmissionStatus.CAPTURED
    assert (held.released_by, held.released_at) == (marketer, FIXED_NOW + timedelta(hours=2))
    assert held.spam_reason == SpamReason.HONEYPOT
    assert held.lead == Lead.objects.get(email="ada@acme.example")
    assert held.consent.given_at == FIXED_NOW
    assert Touch.objects.get().source == "linkedin"


def test_a_held_submission_of_a_person_erased_since_is_blanked_and_cannot_bring_them_back(
    whitepaper: CaptureForm,
) -> None:
    held = submit(whitepaper, honeypot="x").submission  # ada@acme.example, held as spam
    lead = services.capture_lead(
        details=services.LeadDetails(email="Ada@acme.example"), consent=None, activity_kind=ActivityKind.FORM_SUBMITTED,
        now=FIXED_NOW,
    ).lead  # fmt: skip
    services.erase_lead_personal_data(lead=lead, now=FIXED_NOW + timedelta(hours=1), by=None, reason="Ticket 7")

    held.refresh_from_db()
    assert (held.payload, held.ip_address) == ({}, None)
    with pytest.raises(ValidationError):
        submissions.release_submission(submission=held, by=None, now=FIXED_NOW + timedelta(hours=2))
    assert not Lead.objects.filter(erased_at__isnull=True).exists()


def test_a_held_submission_sent_before_the_address_was_suppressed_is_not_released(whitepaper: CaptureForm) -> None:
    held = submit(whitepaper, honeypot="x").submission
    suppression.suppress_address(email="ada@acme.example", reason="Objected", now=FIXED_NOW + timedelta(hours=1))

    with pytest.raises(ValidationError, match="erased, or objected, since"):
        submissions.release_submission(submission=held, by=None, now=FIXED_NOW + timedelta(hours=2))

    assert not Lead.objects.exists()


def test_releasing_the_same_submission_twice_captures_once(whitepaper: CaptureForm) -> None:
    held = submit(whitepaper, honeypot="x").submission
    submissions.release_submission(submission=held, by=None, now=FIXED_NOW)

    again = submissions.release_submission(submission=held, by=None, now=FIXED_NOW)

    assert not again
    assert Consent.objects.count() == 1


def test_the_pipeline_is_enqueued_after_commit(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submit(whitepaper)
        assert queue == []

    assert queue == [("handoff.tasks.run_pipeline", True)]
    lead = Lead.objects.get()
    assert (lead.pipeline_step, lead.pipeline_due_at is not None) == ("waiting", True)


def test_spam_enqueues_nothing(
    whitepaper: CaptureForm, queue: list[tuple[object, ...]], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submit(whitepaper, honeypot="bot")

    assert queue == []


def test_a_failing_task_queue_keeps_the_submission_and_the_lead(
    whitepaper: CaptureForm,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_queue(*args: object) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(receivers, "async_task", broken_queue)

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        result = submit(whitepaper)

    assert Submission.objects.get() == result.submission
    assert Lead.objects.get() == result.submission.lead
    assert Lead.objects.get().pipeline_due_at is not None  # the scheduled run takes it
    assert "Could not queue a pipeline run" in caplog.text


# --- Double opt-in ----------------------------------------------------------------------------------


@pytest.fixture
def webinar() -> CaptureForm:
    form = CaptureFormFactory(slug="webinar", headline="The Pipeline Playbook", is_double_opt_in=True)
    FormFieldFactory(form=form, label="Email", kind="email", lead_attribute="email", is_required=True)
    ConsentTextFactory(form=form)
    return form


def test_double_opt_in_keeps_the_consent_pending(webinar: CaptureForm) -> None:
    submit(webinar)

    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.PENDING
    assert not consent.is_active


def test_double_opt_in_emails_the_confirm_link_and_the_asset_link(
    webinar: CaptureForm, mailoutbox: list, django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit(webinar).submission

    [email] = mailoutbox
    assert email.to == ["ada@acme.example"]
    assert "The Pipeline Playbook" in email.subject
    assert "/f/confirm/" in email.body
    assert "/a/" in email.body
    submission.refresh_from_db()
    assert submission.confirmation_sent_at is not None


def test_the_confirmation_email_is_sent_once_however_often_the_task_runs(
    webinar: CaptureForm, mailoutbox: list
) -> None:
    submission = submit(webinar).submission

    tasks.send_submission_confirmation(submission.pk)
    tasks.send_submission_confirmation(submission.pk)

    assert len(mailoutbox) == 1


def test_the_sweep_sends_a_confirmation_whose_task_was_lost(
    webinar: CaptureForm, mailoutbox: list, queue: list[tuple[object, ...]]
) -> None:
    submission = submit(webinar).submission  # the queue fixture swallows the confirmation task

    sent = submissions.send_unsent_confirmations(now=FIXED_NOW + timedelta(minutes=10))

    assert (sent, [email.to for email in mailoutbox]) == (1, [["ada@acme.example"]])
    submission.refresh_from_db()
    assert submission.confirmation_sent_at == FIXED_NOW + timedelta(minutes=10)


def test_the_sweep_leaves_a_confirmation_its_task_may_still_send(webinar: CaptureForm, mailoutbox: list) -> None:
    submit(webinar)

    assert submissions.send_unsent_confirmations(now=FIXED_NOW + timedelta(minutes=1)) == 0
    assert mailoutbox == []


def test_the_sweep_sends_nothing_twice(webinar: CaptureForm, mailoutbox: list) -> None:
    submit(webinar)
    later = FIXED_NOW + timedelta(minutes=10)
    submissions.send_unsent_confirmations(now=later)

    assert submissions.send_unsent_confirmations(now=later + timedelta(minutes=5)) == 0
    assert len(mailoutbox) == 1


def test_the_sweep_gives_up_on_a_day_old_submission(webinar: CaptureForm, mailoutbox: list) -> None:
    submit(webinar)

    assert submissions.send_unsent_confirmations(now=FIXED_NOW + timedelta(days=1, minutes=1)) == 0
    assert mailoutbox == []


def test_confirming_makes_the_consent_active(webinar: CaptureForm) -> None:
    submission = submit(webinar).submission

    consent = submissions.confirm_consent(submission=submission, now=FIXED_NOW + timedelta(hours=1))

    assert consent is not None
    assert (consent.status, consent.confirmed_at) == (ConsentStatus.CONFIRMED, FIXED_NOW + timedelta(hours=1))
    assert consent.is_active


def test_confirming_twice_keeps_the_first_confirmation_time(webinar: CaptureForm) -> None:
    submission = submit(webinar).submission
    submissions.confirm_consent(submission=submission, now=FIXED_NOW + timedelta(hours=1))

    consent = submissions.confirm_consent(submission=submission, now=FIXED_NOW + timedelta(days=2))

    assert consent is not None
    assert consent.confirmed_at == FIXED_NOW + timedelta(hours=1)


# --- Consent text versions and asset downloads ------------------------------------------------------


def test_a_new_form_gets_consent_text_version_1() -> None:
    form = CaptureFormFactory()

    version = submissions.update_consent_text(form=form, text="You may email me.", by=None, now=FIXED_NOW)

    assert (version.version, version.text) == (1, "You may email me.")


def test_editing_the_consent_text_creates_a_new_version_and_keeps_the_old(whitepaper: CaptureForm) -> None:
    version = submissions.update_consent_text(form=whitepaper, text="Acme may call me.", by=None, now=FIXED_NOW)

    assert version.version == 2
    assert list(whitepaper.consent_texts.order_by("version").values_list("text", flat=True)) == [
        "Yes, Acme may email me about its products.",
        "Acme may call me.",
    ]


def test_saving_the_same_consent_text_creates_no_version(whitepaper: CaptureForm) -> None:
    same = "Yes, Acme may email me about its products.\r\n"

    version = submissions.update_consent_text(form=whitepaper, text=same, by=None, now=FIXED_NOW)

    assert version.version == 1
    assert whitepaper.consent_texts.count() == 1


def test_a_consent_keeps_the_version_shown_even_after_the_text_changes(whitepaper: CaptureForm) -> None:
    shown = whitepaper.consent_texts.get()
    submissions.update_consent_text(form=whitepaper, text="Acme may call me.", by=None, now=FIXED_NOW)

    submit(whitepaper, consent_text=shown)

    consent = Consent.objects.get()
    assert (consent.text, consent.text_version) == ("Yes, Acme may email me about its products.", "v1")


def test_an_asset_download_is_recorded_once_per_submission(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper).submission

    submissions.record_asset_download(submission=submission, now=FIXED_NOW + timedelta(minutes=1))
    submissions.record_asset_download(submission=submission, now=FIXED_NOW + timedelta(minutes=5))

    download = Activity.objects.get(kind=ActivityKind.ASSET_DOWNLOADED)
    assert (download.lead, download.occurred_at) == (submission.lead, FIXED_NOW + timedelta(minutes=1))


def test_an_asset_download_of_held_spam_records_nothing(whitepaper: CaptureForm) -> None:
    submission = submit(whitepaper, honeypot="bot").submission

    assert submissions.record_asset_download(submission=submission, now=FIXED_NOW) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers; the race needs PostgreSQL")
def test_concurrent_submits_of_one_rendered_form_make_one_submission(whitepaper: CaptureForm) -> None:
    barrier = threading.Barrier(4)
    results: list[submissions.SubmitResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(submit(whitepaper, nonce="raced"))
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
    assert Submission.objects.count() == 1
    assert {result.submission.pk for result in results} == {Submission.objects.get().pk}
    assert Consent.objects.count() == 1


def test_a_held_phone_only_submission_of_a_person_erased_since_is_not_released(whitepaper: CaptureForm) -> None:
    """A badge-scan kind of person (a phone, no email) erased after sending is not brought back by a release."""
    held = submit(whitepaper, answers={"first_name": "Ada", "phone": "+44 20 7183 8750"}, honeypot="x").submission
    lead = services.capture_lead(
        details=services.LeadDetails(phone="020 7183 8750", country="GB"), consent=None,
        activity_kind=ActivityKind.FORM_SUBMITTED, now=FIXED_NOW,
    ).lead  # fmt: skip
    services.erase_lead_personal_data(lead=lead, now=FIXED_NOW + timedelta(hours=1), by=None, reason="Ticket 8")

    with pytest.raises(ValidationError, match="erased, or objected, since"):
        submissions.release_submission(submission=held, by=None, now=FIXED_NOW + timedelta(hours=2))

    assert not Lead.objects.filter(erased_at__isnull=True).exists()


def test_a_held_phone_only_submission_of_an_erased_person_is_blanked(whitepaper: CaptureForm) -> None:
    """Erasure finds a held submission that gave no address by its phone number, however it was written."""
    held = submit(whitepaper, answers={"first_name": "Ada", "phone": "+44 20 7183 8750"}, honeypot="x").submission
    other = submit(
        whitepaper, answers={"first_name": "Bo", "phone": "+44 20 7946 0000"}, nonce="nonce-2", honeypot="x"
    ).submission
    lead = services.capture_lead(
        details=services.LeadDetails(phone="020 7183 8750", country="GB"), consent=None,
        activity_kind=ActivityKind.FORM_SUBMITTED, now=FIXED_NOW,
    ).lead  # fmt: skip

    services.erase_lead_personal_data(lead=lead, now=FIXED_NOW + timedelta(hours=1), by=None, reason="Ticket 9")

    held.refresh_from_db()
    other.refresh_from_db()
    assert (held.payload, held.ip_address, held.user_agent) == ({}, None, "")
    assert other.payload["phone"] == "+44 20 7946 0000"
