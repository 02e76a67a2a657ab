"""A capture is one write transaction of at most ten queries, for the public form and the API alike.

Transactional tests: each request commits for real, so what runs after the commit (the webhook event, the
pipeline's wake-up) is counted too. The task queue is outside the process and is replaced by a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.urls import reverse

from handoff import receivers
from integrations.models import ApiKey, ApiKeyScope
from integrations.tests.factories import ApiKeyFactory, api_headers
from leads import services
from leads.models import CaptureForm, ChannelRule, Lead, Submission, SubmissionStatus, Touch
from leads.tests.factories import ConsentTextFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAX_QUERIES = 10
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
TRANSACTION_CONTROL = ("BEGIN",)
ATTRIBUTION = {"utm_source": "linkedin", "utm_medium": "paid_social", "utm_campaign": "q3"}


@dataclass
class Statements:
    """Every statement a block of code sent, and the write transactions among them."""

    sql: list[str] = field(default_factory=list)
    write_transactions: set[int] = field(default_factory=set)
    _autocommitted: int = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.sql.append(sql)
        if sql.lstrip().upper().startswith(WRITES):
            # Inside atomic(), a transaction is its outermost block; outside, each write commits on its own.
            if connection.in_atomic_block:
                self.write_transactions.add(id(connection.atomic_blocks[0]))
            else:
                self._autocommitted -= 1
                self.write_transactions.add(self._autocommitted)
        return execute(sql, params, many, context)

    @property
    def queries(self) -> list[str]:
        # BEGIN is left out: a statement on SQLite, none on PostgreSQL (COMMIT is none on either). A savepoint is a
        # round trip like any query, so it counts: a new person's INSERT needs none (``insert_unless_conflict``).
        return [sql for sql in self.sql if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL)]


@pytest.fixture
def wake_ups(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The pipeline's wake-up goes to the task queue, outside the process: record it instead."""
    calls: list[bool] = []
    monkeypatch.setattr(receivers, "queue_pipeline_run", lambda spread=True: calls.append(spread))
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)
    return calls


@pytest.fixture
def whitepaper_form(whitepaper: CaptureForm) -> Iterator[CaptureForm]:
    yield whitepaper
    caches["default"].clear()


def measure(send: Callable[[], Any]) -> tuple[Any, Statements]:
    statements = Statements()
    with connection.execute_wrapper(statements):
        response = send()
    return response, statements


def form_sender(client: Client, form: CaptureForm, clock: time_machine.Traveller, email: str) -> Callable[[], Any]:
    """Open the form (not measured), let a person's time pass, and return the POST to measure."""
    page = client.get(reverse("leads:form", args=[form.slug]), ATTRIBUTION)
    clock.shift(timedelta(seconds=20))
    data = {
        "token": page.context["token"],
        "first_name": "Ada",
        "email": email,
        "company_name": "Acme",
        "consent": "on",
        **ATTRIBUTION,
    }
    return lambda: client.post(reverse("leads:form", args=[form.slug]), data)


def api_sender(api_key: ApiKey, email: str) -> Callable[[], Any]:
    body = {
        "form": "state-of-b2b",
        "answers": {"first_name": "Ada", "email": email, "company_name": "Acme"},
        "consent": {"given": True},
        "attribution": ATTRIBUTION,
        "ip_address": "203.0.113.9",
    }
    return lambda: Client().post(
        "/api/submissions/", body, content_type="application/json", headers=api_headers(api_key)
    )


def captured(email: str) -> Lead:
    return Lead.objects.get(email=email, pipeline_due_at__isnull=False, first_touch__isnull=False)


# --- The public form -------------------------------------------------------------------------------


@pytest.mark.usefixtures("wake_ups")
def test_a_form_submission_is_one_write_transaction(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    form_sender(client, whitepaper_form, clock, "first@acme.example")()  # the form is read once per process
    send = form_sender(client, whitepaper_form, clock, "ada@acme.example")

    response, statements = measure(send)

    assert response.status_code == 200
    assert captured("ada@acme.example").consents.count() == 1
    assert len(statements.write_transactions) == 1, statements.sql


@pytest.mark.usefixtures("wake_ups")
def test_a_form_submission_takes_at_most_ten_queries(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    form_sender(client, whitepaper_form, clock, "first@acme.example")()
    send = form_sender(client, whitepaper_form, clock, "ada@acme.example")

    response, statements = measure(send)

    assert response.status_code == 200
    assert len(statements.queries) <= MAX_QUERIES, "\n".join(statements.queries)


@pytest.mark.usefixtures("wake_ups")
def test_a_returning_persons_form_submission_is_one_write_transaction_of_at_most_ten_queries(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    form_sender(client, whitepaper_form, clock, "ada@acme.example")()
    send = form_sender(client, whitepaper_form, clock, "ada@acme.example")

    response, statements = measure(send)

    assert response.status_code == 200
    assert Touch.objects.filter(lead=captured("ada@acme.example")).count() == 2
    assert len(statements.write_transactions) == 1, statements.sql
    assert len(statements.queries) <= MAX_QUERIES, "\n".join(statements.queries)


def test_a_captured_form_submission_wakes_the_pipeline_once(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller, wake_ups: list[bool]
) -> None:
    send = form_sender(Client(), whitepaper_form, clock, "ada@acme.example")

    send()

    assert len(wake_ups) == 1


# --- The API ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("wake_ups")
def test_an_api_submission_is_one_write_transaction(whitepaper_form: CaptureForm) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    api_sender(api_key, "first@acme.example")()

    response, statements = measure(api_sender(api_key, "ada@acme.example"))

    assert response.status_code == 201, response.content
    assert captured("ada@acme.example").consents.count() == 1
    assert len(statements.write_transactions) == 1, statements.sql


@pytest.mark.usefixtures("wake_ups")
def test_an_api_submission_takes_at_most_ten_queries(whitepaper_form: CaptureForm) -> None:
    api_key = ApiKeyFactory(scope=ApiKeyScope.CAPTURE)
    api_sender(api_key, "first@acme.example")()

    response, statements = measure(api_sender(api_key, "ada@acme.example"))

    assert response.status_code == 201, response.content
    assert len(statements.queries) <= MAX_QUERIES, "\n".join(statements.queries)


# --- What is kept per process is forgotten when admin changes it -------------------------------------


@pytest.mark.usefixtures("wake_ups")
def test_a_changed_channel_rule_applies_to_the_next_capture(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    form_sender(client, whitepaper_form, clock, "first@acme.example")()
    ChannelRule.objects.create(order=0, channel="partner", sources=["linkedin"])

    form_sender(client, whitepaper_form, clock, "ada@acme.example")()

    assert captured("ada@acme.example").first_touch_channel == "partner"


@pytest.mark.usefixtures("wake_ups")
def test_a_new_consent_text_version_is_shown_and_recorded_at_once(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client()
    form_sender(client, whitepaper_form, clock, "first@acme.example")()
    ConsentTextFactory(form=whitepaper_form, version=2, text="Version two of the consent.")

    form_sender(client, whitepaper_form, clock, "ada@acme.example")()

    assert captured("ada@acme.example").consents.get().text == "Version two of the consent."


@pytest.mark.usefixtures("wake_ups")
def test_a_form_switched_off_is_gone_at_once(whitepaper_form: CaptureForm, clock: time_machine.Traveller) -> None:
    client = Client()
    form_sender(client, whitepaper_form, clock, "first@acme.example")()
    whitepaper_form.is_active = False
    whitepaper_form.save(update_fields=["is_active"])

    response = client.get(reverse("leads:form", args=[whitepaper_form.slug]))

    assert response.status_code == 404


# --- Rate limits write nothing ------------------------------------------------------------------------


@pytest.mark.usefixtures("wake_ups")
def test_the_form_rate_limit_counts_the_stored_submissions(
    whitepaper_form: CaptureForm, clock: time_machine.Traveller
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.23")
    for i in range(21):
        form_sender(client, whitepaper_form, clock, f"person{i}@acme.example")()

    assert Submission.objects.filter(status=SubmissionStatus.SPAM).count() == 1
    assert Submission.objects.filter(status=SubmissionStatus.CAPTURED).count() == 20
