import html
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.privacy import erase_lead
from leads import capture_cache, services, submissions, tokens, views
from leads.models import (
    Activity,
    ActivityKind,
    CaptureForm,
    Consent,
    ConsentStatus,
    Lead,
    SpamReason,
    Submission,
    SubmissionStatus,
    Touch,
)
from leads.tests.factories import FIXED_NOW, CaptureFormFactory, LeadFactory, SubmissionFactory
from tests.personas import client_for

pytestmark = pytest.mark.django_db

HUMAN_PAUSE = timedelta(seconds=20)


def open_form(client: Client, form: CaptureForm, view: str = "leads:form", **query: str) -> HttpResponse:
    return client.get(reverse(view, args=[form.slug]), query)


def csp(response: HttpResponse) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as directive -> sources; django-csp does not fix their order."""
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {name: sources for name, *sources in directives if name}


def answers(response: HttpResponse, **extra: str) -> dict[str, Any]:
    """What a visitor sends back: the rendered token and attribution, their answers and the consent box."""
    data = {"token": response.context["token"], **response.context["attribution"]}
    return {**data, "first_name": "Ada", "email": "ada@acme.example", "company_name": "Acme", "consent": "on", **extra}


def send(
    client: Client, form: CaptureForm, data: dict[str, Any], view: str = "leads:form", **headers: str
) -> HttpResponse:
    return client.post(reverse(view, args=[form.slug]), data, headers=headers)


def fill_and_send(
    client: Client, form: CaptureForm, clock: time_machine.Traveller, view: str = "leads:form", **extra: str
) -> HttpResponse:
    page = open_form(client, form, view)
    clock.shift(HUMAN_PAUSE)
    return send(client, form, answers(page, **extra), view)


# --- The form page ----------------------------------------------------------------------------------


def test_the_form_page_shows_the_fields_and_the_consent_text(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper)

    html = response.content.decode()
    assert response.status_code == 200
    assert "The State of B2B 2026" in html
    assert "Work email" in html
    assert "Yes, Acme may email me about its products." in html
    assert 'name="token"' in html


def test_the_form_page_hides_progressive_fields_from_a_new_visitor(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper)

    assert list(response.context["form"].fields) == ["first_name", "email", "company_name", "job_title", "consent"]


def test_the_form_page_is_never_cached(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper)

    assert "no-store" in response["Cache-Control"]


def test_an_inactive_form_is_not_found(whitepaper: CaptureForm) -> None:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(is_active=False)

    assert open_form(Client(), whitepaper).status_code == 404


def test_a_form_without_consent_text_is_not_found() -> None:
    form = CaptureFormFactory()

    assert open_form(Client(), form).status_code == 404


def test_the_form_page_rejects_put(whitepaper: CaptureForm) -> None:
    response = Client().put(reverse("leads:form", args=[whitepaper.slug]))

    assert response.status_code == 405


def test_submitting_the_form_shows_the_thank_you_page_with_the_asset_link(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), whitepaper, clock)

    assert response.status_code == 200
    assert b"Thank you! Your copy is ready." in response.content
    submission = Submission.objects.get()
    assert shown_asset_link(response) == asset_link(submission)
    assert submission.status == SubmissionStatus.CAPTURED
    assert submission.lead == Lead.objects.get(email="ada@acme.example")


def test_each_visitor_gets_their_own_asset_link(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    first = fill_and_send(Client(), whitepaper, clock, email="ada@acme.example")
    second = fill_and_send(Client(), whitepaper, clock, email="grace@acme.example")

    ada, grace = Submission.objects.order_by("id")
    assert (linked_submission(first), linked_submission(second)) == (ada.pk, grace.pk)


def test_the_next_visitor_sees_the_thank_you_text_as_edited(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    fill_and_send(Client(), whitepaper, clock, email="ada@acme.example")
    whitepaper.thank_you_text = "Enjoy the report & tell a friend."
    whitepaper.save()

    response = fill_and_send(Client(), whitepaper, clock, email="grace@acme.example")

    assert b"Enjoy the report &amp; tell a friend." in response.content


def test_the_form_page_keeps_the_attribution_of_its_url(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    client = Client()
    page = open_form(client, whitepaper, utm_source="google", utm_medium="cpc", utm_campaign="brand", gclid="G-1")
    clock.shift(HUMAN_PAUSE)

    send(client, whitepaper, answers(page))

    touch = Touch.objects.get()
    assert (touch.source, touch.medium, touch.campaign, touch.click_id) == ("google", "cpc", "brand", "G-1")
    assert touch.landing_page.startswith("http://testserver/f/state-of-b2b/?utm_source=google")


def test_the_form_page_takes_the_referrer_from_the_browser(whitepaper: CaptureForm) -> None:
    response = Client().get(reverse("leads:form", args=[whitepaper.slug]), headers={"referer": "https://www.bing.com/"})

    assert response.context["attribution"]["referrer"] == "https://www.bing.com/"


def test_the_consent_is_the_text_shown_even_when_it_was_edited_meanwhile(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    submissions.update_consent_text(form=whitepaper, text="New wording.", by=None, now=FIXED_NOW)
    clock.shift(HUMAN_PAUSE)

    send(client, whitepaper, answers(page))

    consent = Consent.objects.get()
    assert (consent.text, consent.text_version) == ("Yes, Acme may email me about its products.", "v1")
    assert open_form(client, whitepaper).context["consent_text"].text == "New wording."


def test_bad_input_shows_the_form_again_with_field_errors(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), whitepaper, clock, email="not-an-email", company_name="")

    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert set(response.context["form"].errors) == {"email", "company_name"}
    assert not Submission.objects.exists()


def test_a_form_sent_again_after_errors_keeps_its_token(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    clock.shift(HUMAN_PAUSE)
    retry = send(client, whitepaper, answers(page, email="nope"))

    send(client, whitepaper, answers(retry))

    assert (
        Submission.objects.get().idempotency_key
        == tokens.read_render_token(page.context["token"], form=whitepaper).nonce
    )


def test_a_missing_token_shows_the_answers_again_with_a_fresh_token(whitepaper: CaptureForm) -> None:
    response = send(Client(), whitepaper, {"first_name": "Ada", "email": "ada@acme.example"})

    assert response.status_code == 400
    assert "send the form again" in response.content.decode()
    assert response.context["form"]["first_name"].value() == "Ada"
    assert tokens.read_render_token(response.context["token"], form=whitepaper)
    assert not Submission.objects.exists()


def test_an_expired_token_shows_the_answers_again(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    clock.shift(tokens.RENDER_TOKEN_MAX_AGE + timedelta(minutes=1))

    response = send(client, whitepaper, answers(page))

    assert response.status_code == 400
    assert response.context["token"] != page.context["token"]
    assert not Submission.objects.exists()


def test_a_post_from_a_foreign_site_is_forbidden(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    clock.shift(HUMAN_PAUSE)

    response = send(client, whitepaper, answers(page), origin="https://evil.example")

    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_a_post_with_only_a_foreign_referer_is_forbidden(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    clock.shift(HUMAN_PAUSE)

    response = send(client, whitepaper, answers(page), referer="https://evil.example/page")

    assert response.status_code == 403


@pytest.mark.parametrize("origin", ["http://testserver", "https://www.acme.example"])
def test_a_post_from_our_own_or_an_allowed_origin_is_accepted(
    whitepaper: CaptureForm, clock: time_machine.Traveller, origin: str
) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    clock.shift(HUMAN_PAUSE)

    response = send(client, whitepaper, answers(page), origin=origin)

    assert response.status_code == 200
    assert Submission.objects.count() == 1


def test_a_double_click_stores_one_submission_and_shows_the_same_thank_you(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    page = open_form(client, whitepaper)
    clock.shift(HUMAN_PAUSE)
    first = send(client, whitepaper, answers(page))

    second = send(client, whitepaper, answers(page))

    assert (first.status_code, second.status_code) == (200, 200)
    assert b"Thank you! Your copy is ready." in second.content
    assert Submission.objects.count() == 1
    assert Consent.objects.count() == 1


def test_a_filled_honeypot_gets_the_same_thank_you_and_is_held_as_spam(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), whitepaper, clock, company_website="https://spam.example")

    assert b"Thank you! Your copy is ready." in response.content
    assert Submission.objects.get().spam_reason == SpamReason.HONEYPOT
    assert not Lead.objects.exists()


def test_a_form_sent_at_once_is_held_as_too_fast(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    client = Client()
    page = open_form(client, whitepaper)

    send(client, whitepaper, answers(page))

    assert Submission.objects.get().spam_reason == SpamReason.TOO_FAST


def test_the_rate_limit_holds_one_address_sending_too_often(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.23")
    for i in range(21):
        fill_and_send(client, whitepaper, clock, email=f"person{i}@acme.example")

    assert Submission.objects.filter(spam_reason=SpamReason.RATE_LIMITED).count() == 1
    assert Submission.objects.filter(status=SubmissionStatus.CAPTURED).count() == 20


@pytest.mark.parametrize(
    ("proxy_count", "forwarded_for", "address"),
    [
        (None, "198.51.100.1", "127.0.0.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "198.51.100.1, 10.0.0.2", "198.51.100.1"),
    ],
)
def test_the_rate_limit_counts_the_address_the_proxies_saw(
    whitepaper: CaptureForm,
    clock: time_machine.Traveller,
    settings: Any,
    proxy_count: int | None,
    forwarded_for: str,
    address: str,
) -> None:
    settings.PROXY_COUNT = proxy_count or 0
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    fill_and_send(client, whitepaper, clock)

    assert Submission.objects.get().ip_address == address


def test_after_submit_the_visitor_is_redirected_to_an_allowed_origin(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(redirect_url="https://www.acme.example/thanks")

    response = fill_and_send(Client(), whitepaper, clock)

    assert response.status_code == 302
    assert response["Location"] == "https://www.acme.example/thanks"


@pytest.mark.parametrize(
    "url", ["https://evil.example/phish", "//evil.example/", "http://www.acme.example/thanks", "javascript:alert(1)"]
)
def test_after_submit_there_is_no_redirect_to_an_origin_not_allowed(
    whitepaper: CaptureForm, clock: time_machine.Traveller, url: str
) -> None:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(redirect_url=url)

    response = fill_and_send(Client(), whitepaper, clock)

    assert response.status_code == 200
    assert b"Thank you!" in response.content


def test_the_form_page_may_post_and_redirect_to_its_allowed_origins(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper)

    assert csp(response)["form-action"] == ["'self'", "https://www.acme.example"]


def test_the_form_page_itself_cannot_be_framed(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper)

    assert response["X-Frame-Options"] == "DENY"
    assert csp(response)["frame-ancestors"] == ["'none'"]


# --- Embedding --------------------------------------------------------------------------------------


def test_the_embed_page_may_be_framed_by_the_allowed_origins_only(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper, "leads:form_embed")

    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert csp(response)["frame-ancestors"] == ["'self'", "https://www.acme.example"]


def test_the_embed_page_takes_the_host_page_and_its_utm_values_from_embed_js(whitepaper: CaptureForm) -> None:
    host_page = "https://www.acme.example/report?utm_source=linkedin&utm_medium=paid_social"

    response = open_form(
        Client(),
        whitepaper,
        "leads:form_embed",
        utm_source="linkedin",
        utm_medium="paid_social",
        landing_page=host_page,
        referrer="https://www.linkedin.com/",
    )

    assert response.context["attribution"] == {
        "utm_source": "linkedin",
        "utm_medium": "paid_social",
        "referrer": "https://www.linkedin.com/",
        "landing_page": host_page,
    }


def test_the_embed_form_posts_back_to_the_embed_page(whitepaper: CaptureForm) -> None:
    response = open_form(Client(), whitepaper, "leads:form_embed")

    assert f'action="/f/{whitepaper.slug}/embed/"' in response.content.decode()


def test_the_embedded_thank_you_page_can_be_framed_and_opens_the_asset_in_a_new_tab(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), whitepaper, clock, view="leads:form_embed")

    assert "X-Frame-Options" not in response
    assert 'target="_blank"' in response.content.decode()


def test_the_embed_page_rejects_delete(whitepaper: CaptureForm) -> None:
    response = Client().delete(reverse("leads:form_embed", args=[whitepaper.slug]))

    assert response.status_code == 405


def test_embed_js_is_cacheable_javascript(whitepaper: CaptureForm) -> None:
    response = Client().get(reverse("leads:form_embed_script", args=[whitepaper.slug]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert "public" in response["Cache-Control"]
    assert "landing_page" in response.content.decode()


def test_embed_js_of_an_unknown_form_is_not_found() -> None:
    assert Client().get(reverse("leads:form_embed_script", args=["nope"])).status_code == 404


def test_embed_js_rejects_post(whitepaper: CaptureForm) -> None:
    assert Client().post(reverse("leads:form_embed_script", args=[whitepaper.slug])).status_code == 405


# --- The asset link ---------------------------------------------------------------------------------


BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15"


def asset_link(submission: Submission) -> str:
    return reverse("leads:asset", args=[tokens.asset_token(submission_id=submission.pk)])


def linked_submission(response: HttpResponse) -> int:
    """The submission whose asset the thank-you page's button serves."""
    link = shown_asset_link(response)
    assert link is not None
    return tokens.read_asset_token(link.removeprefix("/a/").removesuffix("/"))


def shown_asset_link(response: HttpResponse) -> str | None:
    """Where the thank-you page's "Get your copy" button leads, as the browser reads it; None without one."""
    found = re.search(r'<a [^>]*href="([^"]*)"[^>]*data-testid="asset-link"', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def test_the_asset_link_serves_the_uploaded_file_and_records_the_download(whitepaper: CaptureForm) -> None:
    whitepaper.asset_url = ""
    whitepaper.asset_file.save("report.pdf", ContentFile(b"%PDF-1.4 report"), save=True)
    submission = SubmissionFactory(form=whitepaper, lead=Lead.objects.create(email="ada@acme.example"))

    response = Client().get(asset_link(submission), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 report"  # type: ignore[attr-defined]
    assert Activity.objects.get().kind == ActivityKind.ASSET_DOWNLOADED


def test_the_asset_link_sends_other_files_as_a_download(whitepaper: CaptureForm) -> None:
    whitepaper.asset_url = ""
    whitepaper.asset_file.save("report.html", ContentFile(b"<script>alert(1)</script>"), save=True)

    response = Client().get(asset_link(SubmissionFactory(form=whitepaper)))

    assert response["Content-Disposition"].startswith("attachment;")


def test_the_asset_link_redirects_to_an_external_asset(whitepaper: CaptureForm) -> None:
    response = Client().get(asset_link(SubmissionFactory(form=whitepaper)))

    assert response.status_code == 302
    assert response["Location"] == "https://cdn.acme.example/state-of-b2b.pdf"


@pytest.mark.parametrize(
    "user_agent",
    ["Barracuda Sentinel (EE)", "Mozilla/5.0 (compatible; Proofpoint URL Defense)", "python-requests/2.32", ""],
)
def test_a_mail_scanner_opening_the_asset_link_gets_the_asset_but_records_no_download(
    whitepaper: CaptureForm, user_agent: str
) -> None:
    submission = SubmissionFactory(form=whitepaper, lead=Lead.objects.create(email="ada@acme.example"))

    response = Client().get(asset_link(submission), HTTP_USER_AGENT=user_agent)

    assert (response.status_code, response["Location"]) == (302, "https://cdn.acme.example/state-of-b2b.pdf")
    assert not Activity.objects.filter(kind=ActivityKind.ASSET_DOWNLOADED).exists()


def test_a_head_request_for_the_asset_link_is_answered_but_records_no_download(whitepaper: CaptureForm) -> None:
    submission = SubmissionFactory(form=whitepaper, lead=Lead.objects.create(email="ada@acme.example"))

    response = Client().head(asset_link(submission), HTTP_USER_AGENT=BROWSER)

    assert (response.status_code, response["Location"]) == (302, "https://cdn.acme.example/state-of-b2b.pdf")
    assert not Activity.objects.filter(kind=ActivityKind.ASSET_DOWNLOADED).exists()


def test_an_expired_asset_link_offers_the_form_again(whitepaper: CaptureForm, clock: time_machine.Traveller) -> None:
    link = asset_link(SubmissionFactory(form=whitepaper))
    clock.shift(tokens.ASSET_LINK_MAX_AGE + timedelta(minutes=1))

    response = Client().get(link)

    assert response.status_code == 410
    assert f'href="/f/{whitepaper.slug}/"' in response.content.decode()
    assert not Activity.objects.exists()


def test_a_forged_asset_link_is_not_found() -> None:
    assert Client().get(reverse("leads:asset", args=["1:forged:token"])).status_code == 404


def test_the_asset_link_rejects_post(whitepaper: CaptureForm) -> None:
    assert Client().post(asset_link(SubmissionFactory(form=whitepaper))).status_code == 405


# --- Double opt-in ----------------------------------------------------------------------------------


@pytest.fixture
def double_opt_in(whitepaper: CaptureForm) -> CaptureForm:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(is_double_opt_in=True)
    whitepaper.refresh_from_db()
    return whitepaper


def confirm_link(submission: Submission) -> str:
    return reverse("leads:confirm", args=[tokens.confirm_token(submission_id=submission.pk)])


def test_double_opt_in_thank_you_page_says_to_check_email(
    double_opt_in: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), double_opt_in, clock)

    assert b"Please check your email." in response.content
    assert shown_asset_link(response) is None
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_following_the_confirm_link_shows_a_button_and_confirms_nothing_yet(
    double_opt_in: CaptureForm, clock: time_machine.Traveller
) -> None:
    fill_and_send(Client(), double_opt_in, clock)

    response = Client().get(confirm_link(Submission.objects.get()))

    assert response.status_code == 200
    assert b"Confirm my email address" in response.content
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_pressing_confirm_confirms_the_consent_and_gives_the_asset(
    double_opt_in: CaptureForm, clock: time_machine.Traveller
) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    clock.shift(timedelta(hours=1))

    response = Client().post(confirm_link(Submission.objects.get()))

    consent = Consent.objects.get()
    assert (consent.status, consent.confirmed_at) == (ConsentStatus.CONFIRMED, consent.given_at + timedelta(hours=1))
    assert response.context["asset_url"].startswith("/a/")


def test_a_confirm_link_after_the_person_withdrew_confirms_nothing_and_says_so(
    double_opt_in: CaptureForm, clock: time_machine.Traveller
) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    submission = Submission.objects.get()
    services.withdraw_consents(lead=submission.lead, now=timezone.now(), source="link")

    response = Client().post(confirm_link(submission))

    consent = Consent.objects.get()
    assert response.status_code == 410
    assert b"This link is no longer valid" in response.content
    assert (consent.status, consent.confirmed_ip_address) == (ConsentStatus.PENDING, None)


def test_a_confirm_link_after_erasure_writes_nothing_on_the_erased_lead(
    double_opt_in: CaptureForm, clock: time_machine.Traveller, marketer: object
) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    submission = Submission.objects.get()
    erase_lead(lead=submission.lead, now=timezone.now(), by=marketer, reason="The person asked")  # type: ignore[arg-type]

    response = Client().post(confirm_link(submission))

    assert response.status_code == 410
    assert Consent.objects.get().confirmed_ip_address is None


def test_the_confirm_service_leaves_a_withdrawn_consent_unconfirmed(
    double_opt_in: CaptureForm, clock: time_machine.Traveller
) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    submission = Submission.objects.get()
    services.withdraw_consents(lead=submission.lead, now=timezone.now(), source="link")

    consent = submissions.confirm_consent(submission=submission, now=timezone.now(), ip_address="198.51.100.7")

    assert consent is not None and consent.status == ConsentStatus.PENDING


def test_an_expired_confirm_link_says_so(double_opt_in: CaptureForm, clock: time_machine.Traveller) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    link = confirm_link(Submission.objects.get())
    clock.shift(tokens.CONFIRM_LINK_MAX_AGE + timedelta(minutes=1))

    response = Client().post(link)

    assert response.status_code == 410
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_a_forged_confirm_link_is_not_found() -> None:
    assert Client().get(reverse("leads:confirm", args=["forged"])).status_code == 404


def test_the_confirm_link_rejects_put(whitepaper: CaptureForm) -> None:
    assert Client().put(confirm_link(SubmissionFactory(form=whitepaper))).status_code == 405


# --- Progressive profiling --------------------------------------------------------------------------


def test_a_first_submission_sets_the_signed_visitor_cookie(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    response = fill_and_send(Client(), whitepaper, clock)

    cookie = response.cookies[tokens.VISITOR_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie.value != str(Lead.objects.get().pk)


def test_the_visitor_cookie_is_samesite_none_and_secure_over_https(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    page = client.get(reverse("leads:form", args=[whitepaper.slug]), secure=True)
    clock.shift(HUMAN_PAUSE)

    response = client.post(reverse("leads:form", args=[whitepaper.slug]), answers(page), secure=True)

    cookie = response.cookies[tokens.VISITOR_COOKIE]
    assert (cookie["samesite"], cookie["secure"]) == ("None", True)


def test_a_returning_visitor_sees_the_next_unanswered_fields(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    fill_and_send(client, whitepaper, clock, job_title="CTO")

    response = open_form(client, whitepaper)

    assert list(response.context["form"].fields) == ["email", "country", "team_size", "consent"]


def test_the_next_visit_asks_the_progressive_fields_still_unanswered(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    fill_and_send(client, whitepaper, clock, job_title="CTO")
    fill_and_send(client, whitepaper, clock, country="GB", team_size="11-50")

    response = open_form(client, whitepaper)

    assert list(response.context["form"].fields) == ["email", "budget", "consent"]
    assert Lead.objects.get().custom_answers == {"team_size": "11-50"}


def test_the_server_validates_only_the_fields_that_were_shown(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    fill_and_send(client, whitepaper, clock, job_title="CTO")
    page = open_form(client, whitepaper)
    clock.shift(HUMAN_PAUSE)

    response = send(client, whitepaper, {**answers(page), "first_name": "", "company_name": "", "budget": "not shown"})

    assert response.status_code == 200
    assert "budget" not in Submission.objects.latest("id").payload
    assert Lead.objects.get().first_name == "Ada"


def test_sending_someone_elses_known_address_does_not_remember_their_lead_for_this_browser(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    LeadFactory(email="ada@acme.example", first_name="Ada", job_title="CTO")

    response = fill_and_send(Client(), whitepaper, clock, email="ada@acme.example")

    assert tokens.VISITOR_COOKIE not in response.cookies


def test_a_forged_visitor_cookie_is_ignored(whitepaper: CaptureForm) -> None:
    client = Client()
    client.cookies[tokens.VISITOR_COOKIE] = "1"

    response = open_form(client, whitepaper)

    assert "first_name" in response.context["form"].fields


# --- Preview ----------------------------------------------------------------------------------------


def test_the_preview_shows_marketers_the_form_without_a_working_button(
    whitepaper: CaptureForm, marketer: object
) -> None:
    response = client_for(marketer).get(reverse("leads:form_preview", args=[whitepaper.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="preview-banner"' in html
    assert "disabled" in html


def test_the_preview_is_forbidden_to_reps(whitepaper: CaptureForm, rep: object) -> None:
    response = client_for(rep).get(reverse("leads:form_preview", args=[whitepaper.slug]))

    assert response.status_code == 403


def test_the_preview_sends_anonymous_visitors_to_sign_in(whitepaper: CaptureForm) -> None:
    response = Client().get(reverse("leads:form_preview", args=[whitepaper.slug]))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_preview_rejects_post(whitepaper: CaptureForm, marketer: object) -> None:
    response = client_for(marketer).post(reverse("leads:form_preview", args=[whitepaper.slug]))

    assert response.status_code == 405


def test_a_thank_you_page_of_a_copy_of_the_form_older_than_an_edit_is_not_kept(
    whitepaper: CaptureForm, clock: time_machine.Traveller
) -> None:
    # A submission that read the form just before a marketer's edit still renders its own page, but that page
    # must not be kept for the visitors after the edit.
    before_the_edit = capture_cache.form_entry(whitepaper.slug)
    assert before_the_edit is not None
    whitepaper.thank_you_text = "Enjoy the report & tell a friend."
    whitepaper.save()
    views._thank_you_page(before_the_edit, embed=False, asset_url="/a/x/")

    response = fill_and_send(Client(), whitepaper, clock)

    assert b"Enjoy the report &amp; tell a friend." in response.content
