"""Email-domain classification is pure: these tests need no database and no network."""

import pytest

from leads.enrichment import domains
from leads.enrichment.domains import (
    DomainInfo,
    DomainKind,
    classify_email_domain,
    free_mail_domains,
    normalise_domain,
)


@pytest.mark.parametrize(
    ("email_or_domain", "company_domain"),
    [
        ("ann@acme.com", "acme.com"),
        ("acme.com", "acme.com"),
        ("ann.smith+webinar@acme.io", "acme.io"),
        ("ann@sales.acme.com", "sales.acme.com"),
        ("ann@www.acme.com", "acme.com"),
        ("mail.acme.co.uk", "acme.co.uk"),
        ("ann@acme-industries.de", "acme-industries.de"),
        ("ann@mail.io", "mail.io"),  # dropping "mail." would leave only a top-level domain
        ("ann@bücher.de", "xn--bcher-kva.de"),
        ("ann@xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("ann@acme.com.", "acme.com"),
        ("ann@gmail.acme.com", "gmail.acme.com"),  # a company host named gmail is not gmail.com
    ],
)
def test_company_domains_give_company_domain_and_website(email_or_domain: str, company_domain: str) -> None:
    info = classify_email_domain(email_or_domain)

    assert info.kind == DomainKind.COMPANY
    assert info.company_domain == company_domain
    assert info.website == f"https://{company_domain}"


@pytest.mark.parametrize(
    "email_or_domain",
    [
        "ann@gmail.com",
        "googlemail.com",
        "ann@outlook.com",
        "ann@hotmail.co.uk",
        "ann@yahoo.co.jp",
        "ann@icloud.com",
        "ann@proton.me",
        "ann@gmx.de",
        "ann@web.de",
        "ann@mail.ru",
        "ann@qq.com",
        "ann@163.com",
        "ann@orange.fr",
        "ann@mail.com",  # "mail." is never stripped off a provider
        "ann@us.yahoo.com",
        "ann@mx.sub.gmail.com",
    ],
)
def test_free_mail_domains_and_their_subdomains_are_free_mail(email_or_domain: str) -> None:
    info = classify_email_domain(email_or_domain)

    assert info.kind == DomainKind.FREE_MAIL
    assert (info.company_domain, info.website) == ("", "")


@pytest.mark.parametrize(
    "email_or_domain",
    ["ann@mailinator.com", "guerrillamail.com", "ann@10minutemail.com", "ann@yopmail.com", "ann@inbox.mailinator.com"],
)
def test_disposable_domains_and_their_subdomains_are_disposable(email_or_domain: str) -> None:
    info = classify_email_domain(email_or_domain)

    assert info.kind == DomainKind.DISPOSABLE
    assert (info.company_domain, info.website) == ("", "")


@pytest.mark.parametrize(
    "email_or_domain",
    [
        "",
        "   ",
        "ann@",
        "@",
        "acme",
        "ann@localhost",
        "1.2.3.4",
        "ann@acme_corp.com",
        "ann@ac me.com",
        "ann@-acme.com",
        "ann@acme-.com",
        "ann@acme..com",
        "ann@acme.c",
        "ann@acme.123",
        "https://acme.com",
        "Ann <ann@acme.com>",
        "ann@" + "x" * 64 + ".com",
        "ann@" + "a." * 130 + "com",
    ],
)
def test_malformed_input_is_invalid(email_or_domain: str) -> None:
    info = classify_email_domain(email_or_domain)

    assert info.kind == DomainKind.INVALID
    assert (info.company_domain, info.website) == ("", "")


@pytest.mark.parametrize(
    ("email_or_domain", "expected"),
    [
        ("ANN@ACME.COM", DomainInfo("acme.com", DomainKind.COMPANY, "acme.com", "https://acme.com")),
        ("  Ann@Acme.Com  ", DomainInfo("acme.com", DomainKind.COMPANY, "acme.com", "https://acme.com")),
        ("ann\uff20\uff41cme.com", DomainInfo("acme.com", DomainKind.COMPANY, "acme.com", "https://acme.com")),
        ("WWW.ACME.COM", DomainInfo("www.acme.com", DomainKind.COMPANY, "acme.com", "https://acme.com")),
        ("Ann@GMail.Com", DomainInfo("gmail.com", DomainKind.FREE_MAIL, "", "")),
        ("ANN@MAILINATOR.COM", DomainInfo("mailinator.com", DomainKind.DISPOSABLE, "", "")),
        ("Ann@Acme_Corp.com", DomainInfo("acme_corp.com", DomainKind.INVALID, "", "")),
    ],
)
def test_case_and_width_do_not_matter(email_or_domain: str, expected: DomainInfo) -> None:
    assert classify_email_domain(email_or_domain) == expected


@pytest.mark.parametrize("domain", ["acme.com", "gmail.com", "mailinator.com", "sales.acme.co.uk"])
def test_full_address_and_bare_domain_classify_alike(domain: str) -> None:
    assert classify_email_domain(f"ann@{domain}") == classify_email_domain(domain)


def test_the_domain_after_the_last_at_counts() -> None:
    assert classify_email_domain('"ann@gmail.com"@acme.com').kind == DomainKind.COMPANY


def test_free_mail_wins_when_the_blocklist_also_names_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(domains, "_DISPOSABLE_DOMAINS", frozenset({"gmail.com"}))

    assert classify_email_domain("ann@gmail.com").kind == DomainKind.FREE_MAIL


def test_domain_kind_values_are_plain_strings_for_storage() -> None:
    assert [kind.value for kind in DomainKind] == ["company", "free_mail", "disposable", "invalid"]
    assert classify_email_domain("ann@gmail.com").kind == "free_mail"


def test_free_mail_list_is_read_once() -> None:
    assert free_mail_domains() is free_mail_domains()


def test_free_mail_list_has_the_common_providers() -> None:
    listed = free_mail_domains()

    assert len(listed) >= 100
    assert {"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "proton.me"} <= listed


def test_free_mail_file_lines_are_normalised_unique_domains() -> None:
    lines = domains.FREE_MAIL_FILE.read_text(encoding="utf-8").splitlines()
    entries = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    assert [entry for entry in entries if normalise_domain(entry) != entry] == []
    assert len(entries) == len(set(entries))


def test_normalise_domain_gives_idna_ascii_lower_case() -> None:
    assert normalise_domain("BÜCHER.de") == "xn--bcher-kva.de"
    assert normalise_domain("bad domain.com") is None
