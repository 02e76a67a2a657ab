"""A search of the leads' name, e-mail and company: on PostgreSQL served by their trigram indexes (leads 0029), but for
a term without a trigram."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.db.models import QuerySet
from django.test import RequestFactory

from leads import selectors
from leads.models import Lead, Submission
from leads.selectors import lead_search_q
from leads.tests.factories import CaptureFormFactory, LeadFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")

TRIGRAM_INDEXES = {
    "lead_email_trgm_idx", "lead_first_name_trgm_idx", "lead_last_name_trgm_idx", "lead_company_trgm_idx",
}  # fmt: skip


def admin_search(words: str) -> QuerySet[Lead]:
    """The leads admin's search finds for ``words``, as its list's search box sends them."""
    request = RequestFactory().get("/admin/leads/lead/", {"q": words})
    found, _ = admin.site._registry[Lead].get_search_results(request, Lead.objects.all(), words)
    return found


def indexes_scanned(queryset: QuerySet[Any]) -> set[str]:
    """The indexes PostgreSQL's plan of ``queryset`` reads when it may not read the whole table instead.

    With the few rows of a test the planner would rather read the table, or walk the list's order's index; forbidding
    both shows whether an index can serve the search at all, which is what a million leads need.
    """
    sql, params = queryset.order_by().values_list("pk").query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()[0]

    def names(node: dict[str, Any]) -> set[str]:
        own = {node["Index Name"]} if "Index Name" in node else set()
        return own.union(*(names(child) for child in node.get("Plans", [])))

    return names(plan["Plan"])


@on_postgresql
def test_the_admin_search_reads_the_four_trigram_indexes() -> None:
    LeadFactory.create_batch(3)

    assert indexes_scanned(admin_search("nimbus")) == TRIGRAM_INDEXES


@on_postgresql
def test_the_inbox_search_reads_the_four_trigram_indexes() -> None:
    LeadFactory.create_batch(3)

    assert indexes_scanned(Lead.objects.filter(lead_search_q("nimbus", prefix=""))) == TRIGRAM_INDEXES


@on_postgresql
def test_the_indexes_find_a_word_inside_a_name_whatever_its_case() -> None:
    wanted = LeadFactory(company_name="Nimbus Analytics", first_name="Ada", last_name="Byrne")
    LeadFactory(company_name="Other Works", first_name="Bo", last_name="Lind")
    searched = Lead.objects.filter(lead_search_q("bUS aNA", prefix="")).order_by()
    assert indexes_scanned(searched) == TRIGRAM_INDEXES  # the settings it leaves hold for the read below

    assert list(searched.values_list("pk", flat=True)) == [wanted.pk]


@on_postgresql
@pytest.mark.parametrize("term", ["abc", "a.bcd", "x_yz1", "Müll"])
def test_a_term_with_three_letters_or_digits_in_a_row_is_asked_of_the_trigram_indexes(term: str) -> None:
    LeadFactory.create_batch(3)

    assert indexes_scanned(admin_search(term)) == TRIGRAM_INDEXES


@on_postgresql
@pytest.mark.parametrize("term", ["ab", "a b c", "@@@", "a.b-c", "x_y"])
def test_a_term_without_three_letters_in_a_row_is_not_asked_of_the_trigram_indexes(term: str) -> None:
    # It has no trigram: a plan on them would read each index whole (2.7 s at a million leads, the table 0.5 s).
    LeadFactory.create_batch(3)

    assert not indexes_scanned(admin_search(term)) & TRIGRAM_INDEXES
    assert not indexes_scanned(Lead.objects.filter(lead_search_q(term, prefix=""))) & TRIGRAM_INDEXES


@pytest.mark.parametrize(
    ("words", "found"),
    [("LI", {"lin", "carlie"}), ("li", {"lin", "carlie"}), ("iE", {"carlie"}), ("0%", {"bo"}), ("0_", set())],
)
def test_a_short_term_finds_the_leads_with_it_anywhere_whatever_its_case(words: str, found: set[str]) -> None:
    # Taken as it is: % and _ are characters, not LIKE's wildcards.
    LeadFactory(email="lin@a.example", first_name="Lin", last_name="Byrne", company_name="Acme 500")
    LeadFactory(email="carlie@b.example", first_name="Carlie", last_name="Stone", company_name="Beta")
    LeadFactory(email="bo@c.example", first_name="Bo", last_name="Stone", company_name="Save 50% Ltd")

    assert {lead.email.split("@")[0] for lead in admin_search(words)} == found
    assert {lead.email.split("@")[0] for lead in Lead.objects.filter(lead_search_q(words, prefix=""))} == found


def test_the_admin_search_asks_for_every_word_and_keeps_a_quoted_phrase_whole() -> None:
    LeadFactory(email="ada@a.example", first_name="Ada", last_name="Byrne", company_name="Nimbus Analytics")
    LeadFactory(email="bo@b.example", first_name="Bo", last_name="Byrne", company_name="Analytics Nimbus")

    assert {lead.email for lead in admin_search("byrne ada")} == {"ada@a.example"}
    assert {lead.email for lead in admin_search('"nimbus analytics"')} == {"ada@a.example"}
    assert {lead.email for lead in admin_search("nimbus analytics")} == {"ada@a.example", "bo@b.example"}


@pytest.mark.parametrize("term", ["zq", "zqx"])
def test_a_lead_without_an_email_has_no_term_in_it_when_the_search_is_negated(term: str) -> None:
    # Django's exclude() of icontains keeps the rows whose column is NULL; the short terms' form does the same.
    lead = LeadFactory(email=None, phone="+442071234567", first_name="Ada", last_name="Byrne", company_name="Acme")

    assert list(Lead.objects.exclude(lead_search_q(term, prefix="")).values_list("pk", flat=True)) == [lead.pk]


# --- The submissions' search (leads.selectors.submission_search_q)------------------------------------------------


def submission_search(words: str) -> set[str]:
    """The idempotency keys of the submissions admin's search finds for ``words``."""
    request = RequestFactory().get("/admin/leads/submission/", {"q": words})
    found, _ = admin.site._registry[Submission].get_search_results(request, Submission.objects.all(), words)
    return set(found.values_list("idempotency_key", flat=True))


@pytest.fixture
def submissions() -> None:
    form = CaptureFormFactory()
    ada = LeadFactory(email="ada.byrne@nimbus.example")
    # Ada's lead changed her e-mail after she sent hers; a spam submission has no lead.
    SubmissionFactory(form=form, idempotency_key="ada", lead=ada, payload={"email": "ada@old.example"})
    SubmissionFactory(
        form=form, idempotency_key="spam", payload={"email": "bot@spam.example"}, ip_address="2001:db8::7"
    )
    SubmissionFactory(form=form, idempotency_key="bo", lead=LeadFactory(email="bo@acme.example"),
                      payload={"email": "bo@acme.example"}, ip_address="198.51.100.4")  # fmt: skip


@pytest.mark.parametrize(
    ("words", "found"),
    [
        ("NIMBUS", {"ada"}),  # the lead's e-mail
        ("old.example", {"ada"}),  # the e-mail sent
        ("bot@", {"spam"}),  # the e-mail sent, no lead
        ("example", {"ada", "spam", "bo"}),
        ("ac", {"bo"}),  # too short for a trigram
        ("198.51.100.4", {"bo"}),  # an address
        ("2001:DB8:0::7", {"spam"}),  # an IPv6 address, as typed
        ("192.0.2.1", set()),  # an address none was sent from
        ("bo nimbus", set()),  # every word
    ],
)
def test_the_submissions_search_finds_an_email_as_the_lead_has_it_or_as_it_was_sent_or_an_address(
    submissions: None, words: str, found: set[str]
) -> None:
    assert submission_search(words) == found


@on_postgresql
def test_the_submissions_search_reads_the_email_trigram_indexes(submissions: None) -> None:
    found = Submission.objects.filter(selectors.submission_search_q("nimbus"))

    assert {"lead_email_trgm_idx", "submission_email_trgm_idx"} <= indexes_scanned(found)


@on_postgresql
def test_a_short_term_of_the_submissions_search_is_not_asked_of_them(submissions: None) -> None:
    found = Submission.objects.filter(selectors.submission_search_q("ac"))

    assert not indexes_scanned(found) & {"lead_email_trgm_idx", "submission_email_trgm_idx"}
