"""The import pages in admin: upload, map, preview, start, progress and undo; bad files get a form error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from leads import import_admin
from leads.models import ImportEvent, ImportStatus, Lead, LeadImport, LegalBasis
from tests.personas import client_for

pytestmark = pytest.mark.django_db

CSV = b"E-mail,First Name,Last Name,Company\nann@new.example,Ann,Smith,Newco\nbad,Bob,Stone,Bobco\n"
NOTICE = "Your badge scan is shared with Acme."


def upload(client: Client, content: bytes = CSV, **data: Any) -> Any:
    fields = {"new_event": "Web Summit 2026", "legal_basis": LegalBasis.EVENT, "consent_text": NOTICE, **data}
    fields["file"] = SimpleUploadedFile("scans.csv", content, content_type="text/csv")
    return client.post(reverse("admin:leads_leadimport_add"), fields)


def imported(client: Client, capture_on_commit: Any) -> LeadImport:
    """The file uploaded, its e-mail column mapped, previewed and imported (the worker's tasks run inline)."""
    upload(client)
    batch = LeadImport.objects.get()
    with capture_on_commit(execute=True):
        client.post(reverse("admin:leads_leadimport_map", args=[batch.pk]), {"col_0": "email"})
    with capture_on_commit(execute=True):
        client.post(reverse("admin:leads_leadimport_start", args=[batch.pk]))
    return batch


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

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:leads_leadimport_map", args=[batch.pk]), mapping)
    preview = client.get(reverse("admin:leads_leadimport_change", args=[batch.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:leads_leadimport_start", args=[batch.pk]))
    progress = client.get(reverse("admin:leads_leadimport_progress", args=[batch.pk])).json()
    listed = client.get(reverse("admin:leads_lead_changelist"), {"import": batch.pk})
    with django_capture_on_commit_callbacks(execute=True):  # the undo's task runs inline
        client.post(reverse("admin:leads_leadimport_undo", args=[batch.pk]))

    assert "is not an email address" in preview.content.decode()
    assert (progress["status"], progress["percent"], progress["created"], progress["errors"]) == ("done", 100, 1, 1)
    assert [lead.email for lead in listed.context["cl"].result_list] == ["ann@new.example"]
    assert (LeadImport.objects.get().status, Lead.objects.count()) == (ImportStatus.UNDONE, 0)


def test_a_large_import_is_checked_for_undo_when_the_button_is_used(
    marketer: object, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_admin, "UNDO_CHECKED_ON_PAGE", 0)
    client = client_for(marketer)
    batch = imported(client, django_capture_on_commit_callbacks)
    Lead.objects.update(owner=marketer)

    page = client.get(reverse("admin:leads_leadimport_change", args=[batch.pk]))
    refused = client.post(reverse("admin:leads_leadimport_undo", args=[batch.pk]), follow=True)

    assert 'data-testid="undo-import"' in page.content.decode()
    assert "it has been assigned to a rep" in refused.content.decode()
    assert (LeadImport.objects.get().status, Lead.objects.count()) == (ImportStatus.DONE, 1)


def test_undo_button_queues_the_undo_and_the_page_follows_it(
    marketer: object, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(marketer)
    batch = imported(client, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("admin:leads_leadimport_undo", args=[batch.pk]), follow=True)
    progress = client.get(reverse("admin:leads_leadimport_progress", args=[batch.pk])).json()

    page = response.content.decode()
    assert len(queued) == 1
    assert (progress["status"], progress["processed"], progress["total"], progress["percent"]) == ("undoing", 0, 1, 0)
    assert "Undoing…" in page and 'data-testid="undo-progress"' in page
    assert reverse("admin:leads_leadimport_progress", args=[batch.pk]) in page
    assert Lead.objects.count() == 1


def test_an_undone_import_names_the_leads_it_kept(marketer: object, django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(marketer)
    batch = imported(client, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("admin:leads_leadimport_undo", args=[batch.pk]))
    Lead.objects.update(owner=marketer)  # a rep is given the lead before the worker reaches it
    queued[0]()

    page = client.get(reverse("admin:leads_leadimport_change", args=[batch.pk])).content.decode()

    assert (LeadImport.objects.get().status, Lead.objects.count()) == (ImportStatus.UNDONE, 1)
    assert "1 lead kept: sales or staff worked on" in page


def test_mapping_queues_the_preview_and_the_page_follows_it(
    marketer: object, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(marketer)
    upload(client)
    batch = LeadImport.objects.get()

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("admin:leads_leadimport_map", args=[batch.pk]), {"col_0": "email"})
    page = client.get(response.url)
    progress = client.get(reverse("admin:leads_leadimport_progress", args=[batch.pk])).json()

    assert len(queued) == 1
    assert (progress["status"], progress["total"], progress["processed"]) == (ImportStatus.PREVIEWING, 2, 0)
    assert "Previewing…" in page.content.decode()
    assert reverse("admin:leads_leadimport_progress", args=[batch.pk]) in page.content.decode()
    assert Lead.objects.count() == 0


def test_a_preview_that_failed_shows_its_reason_on_the_mapping_page(marketer: object) -> None:
    client = client_for(marketer)
    upload(client)
    batch = LeadImport.objects.get()
    LeadImport.objects.filter(pk=batch.pk).update(failure="The file is not a readable CSV file.")

    response = client.get(reverse("admin:leads_leadimport_map", args=[batch.pk]))

    assert "The preview stopped: The file is not a readable CSV file." in response.content.decode()


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


def test_the_page_of_an_import_whose_upload_was_deleted_says_when_and_why(
    marketer: object, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(marketer)
    batch = imported(client, django_capture_on_commit_callbacks)
    deleted_at = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)
    LeadImport.objects.filter(pk=batch.pk).update(file="", file_deleted_at=deleted_at)

    response = client.get(reverse("admin:leads_leadimport_change", args=[batch.pk]))

    assert response.status_code == 200
    assert "The uploaded file was deleted on 2026-04-02 under the retention policy" in response.content.decode()
