import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.models import CompanyDirectoryEntry, EnrichmentProvider
from leads.tests.dns import fake_dns
from tests.personas import client_for

pytestmark = pytest.mark.django_db


def test_marketer_adds_an_http_provider_with_valid_settings(marketer: object, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"api.example.com": ["93.184.216.34"]})
    settings = '{"url": "https://api.example.com/v1?email={email}", "mapping": {"industry": "company.industry"}}'

    response = client_for(marketer).post(
        reverse("admin:leads_enrichmentprovider_add"),
        {"name": "Clearbit-like", "kind": "http", "order": 40, "is_active": "on", "timeout_seconds": 3,
         "settings": settings},
    )  # fmt: skip

    assert response.status_code == 302
    assert EnrichmentProvider.objects.get(name="Clearbit-like").settings["mapping"] == {"industry": "company.industry"}


def test_bad_provider_settings_are_a_form_error(marketer: object) -> None:
    response = client_for(marketer).post(
        reverse("admin:leads_enrichmentprovider_add"),
        {"name": "Broken", "kind": "http", "order": 40, "timeout_seconds": 3, "settings": '{"url": "ftp://x"}'},
    )

    assert response.status_code == 200
    assert "url: Give the service" in response.content.decode()
    assert not EnrichmentProvider.objects.filter(name="Broken").exists()


def test_an_http_provider_inside_a_private_network_is_a_form_error(marketer: object) -> None:
    settings = '{"url": "http://10.0.0.5/v1?email={email}", "mapping": {"industry": "company.industry"}}'

    response = client_for(marketer).post(
        reverse("admin:leads_enrichmentprovider_add"),
        {"name": "Internal", "kind": "http", "order": 40, "timeout_seconds": 3, "settings": settings},
    )

    assert "url: This address points into a private network (10.0.0.5)" in response.content.decode()
    assert not EnrichmentProvider.objects.filter(name="Internal").exists()


def test_marketer_imports_the_company_directory_from_csv(marketer: object) -> None:
    upload = SimpleUploadedFile(
        "companies.csv", b"domain,name,employee_count,industry,country\nacme.example,Acme,250,Software,GB\n"
    )

    response = client_for(marketer).post(reverse("admin:leads_companydirectory_import"), {"file": upload})

    assert response.status_code == 302
    assert CompanyDirectoryEntry.objects.get(domain="acme.example").employee_count == 250


def test_a_bad_directory_csv_shows_its_line_errors(marketer: object) -> None:
    upload = SimpleUploadedFile("companies.csv", b"domain,employee_count\nacme.example,lots\n")

    response = client_for(marketer).post(reverse("admin:leads_companydirectory_import"), {"file": upload})

    assert response.status_code == 200
    assert "Line 2: employee_count" in response.content.decode()


def test_reps_cannot_open_the_enrichment_admin(rep: object) -> None:
    response = client_for(rep).get(reverse("admin:leads_enrichmentprovider_changelist"))

    assert response.status_code == 302
