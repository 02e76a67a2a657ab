"""The import pages in admin: upload, map, preview, start, progress and undo; bad files get a form error."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leads.models import ImportEvent, ImportStatus, Lead, LeadImport, LegalBasis
from tests.personas import client_for

pytestmark = pytest.mark.django_db

CSV = b"E-mail,First Name,Last Name,Company\nann@new.example,Ann,Smith,Newco\nbad,Bob,Stone,Bobco\n"
NOTICE = "Your badge scan is shared with Acme."


def upload(client: Client, content: bytes = CSV, **data: Any) -> Any:
    fields = {"new_event": "Web Summit 2026", "legal_basis": LegalBasis.EVENT, "consent_text": NOTICE, **data}
    fields["file"] = SimpleUploadedFile("scans.csv", content, content_type="text/csv")
    return client.post(reverse("admin:leads_leadimport_add"), fields)


def test_upload_creates_the_event_and_asks_for_the_mapping(marketer: object) -> None:
    response = upload(client_for(marketer))

    batch = LeadImport.objects.get()
    assert response.url == reverse("admin:leads_leadimport_map", args=[batch.pk])
    assert (batch.event.name, batch.event.source, batch.columns) == (
        "Web Summit 2026",
        "web-summit-2026",
        ["E-mail", "First Name", "Last Name", "Company"],
    )


def test_mapping_page_guesses_columns_from_their_names(marketer: object) -> None:
    client = client_for(marketer)
    upload(client)

    response = client.get(reverse("admin:leads_leadimport_map", args=[LeadImport.objects.get().pk]))

    form = response.context["form"]
    assert [form[f"col_{i}"].initial for i in range(4)] == ["email", "first_name", "last_name", "company_name"]


def test_a_file_that_is_not_a_list_is_a_form_error(marketer: object) -> None:
    response = upload(client_for(marketer), content=b"Email,Company\n")

    assert response.status_code == 200
    assert "The file has a header but no rows." in response.content.decode()
    assert not LeadImport.objects.exists()


def test_a_legitimate_interest_import_needs_the_notice(marketer: object) -> None:
    response = upload(client_for(marketer), legal_basis=LegalBasis.LEGITIMATE_INTEREST, consent_text="")

    assert "Give the notice people were shown" in response.content.decode()


def test_an_event_without_name_or_choice_is_a_form_error(marketer: object) -> None:
    response = upload(client_for(marketer), new_event="")

    assert "Choose the event, or name a new one." in response.content.decode()


def test_whole_flow_imports_and_undoes(marketer: object, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(marketer)
    upload(client)
    batch = LeadImport.objects.get()
    mapping = {"col_0": "email", "col_1": "first_name", "col_2": "last_name", "col_3": "company_name"}

    client.post(reverse("admin:leads_leadimport_map", args=[batch.pk]), mapping)
    preview = client.get(reverse("admin:leads_leadimport_change", args=[batch.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:leads_leadimport_start", args=[batch.pk]))
    progress = client.get(reverse("admin:leads_leadimport_progress", args=[batch.pk])).json()
    listed = client.get(reverse("admin:leads_lead_changelist"), {"import": batch.pk})
    client.post(reverse("admin:leads_leadimport_undo", args=[batch.pk]))

    assert "is not an email address" in preview.content.decode()
    assert (progress["status"], progress["percent"], progress["created"], progress["errors"]) == ("done", 100, 1, 1)
    assert [lead.email for lead in listed.context["cl"].result_list] == ["ann@new.example"]
    assert (LeadImport.objects.get().status, Lead.objects.count()) == (ImportStatus.UNDONE, 0)


def test_event_remembers_the_mapping_for_its_next_file(marketer: object) -> None:
    client = client_for(marketer)
    upload(client)
    first = LeadImport.objects.get()
    client.post(reverse("admin:leads_leadimport_map", args=[first.pk]), {"col_0": "email", "col_3": "answer:"})
    upload(client, new_event="", event=ImportEvent.objects.get().pk)
    second = LeadImport.objects.exclude(pk=first.pk).get()

    response = client.get(reverse("admin:leads_leadimport_map", args=[second.pk]))

    assert [response.context["form"][f"col_{i}"].initial for i in range(4)] == ["email", "", "", "answer:"]


def test_managers_cannot_import(manager: object) -> None:
    response = client_for(manager).get(reverse("admin:leads_leadimport_add"))

    assert response.status_code == 403


def test_start_refuses_get(marketer: object) -> None:
    client = client_for(marketer)
    upload(client)

    response = client.get(reverse("admin:leads_leadimport_start", args=[LeadImport.objects.get().pk]))

    assert response.status_code == 405
