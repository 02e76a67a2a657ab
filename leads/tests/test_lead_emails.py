"""The double opt-in: who confirmed from where, and the withdrawal link in every email to a lead."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from leads import submissions, unsubscribe
from leads.models import CaptureForm, Consent, Submission
from leads.tests.test_form_views import confirm_link, fill_and_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def double_opt_in(whitepaper: CaptureForm) -> CaptureForm:
    CaptureForm.objects.filter(pk=whitepaper.pk).update(is_double_opt_in=True)
    whitepaper.refresh_from_db()
    return whitepaper


def test_confirming_keeps_the_address_it_came_from(double_opt_in: CaptureForm, clock: time_machine.Traveller) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    clock.shift(timedelta(hours=1))

    Client(REMOTE_ADDR="198.51.100.23").post(confirm_link(Submission.objects.get()))

    assert Consent.objects.get().confirmed_ip_address == "198.51.100.23"


def test_the_confirmation_email_names_the_withdrawal_link_to_mail_programs(
    double_opt_in: CaptureForm, clock: time_machine.Traveller
) -> None:
    fill_and_send(Client(), double_opt_in, clock)
    submission = Submission.objects.get()
    mail.outbox.clear()

    submissions.send_confirmation_email(submission_id=submission.pk, now=submission.submitted_at)

    assert submission.lead_id is not None
    link = unsubscribe.withdraw_url(lead_id=submission.lead_id)
    assert mail.outbox[0].extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert link in mail.outbox[0].body
