"""Pure classification of an email address or domain: company, free mail, disposable or invalid.

No Django, no ORM, no clock and no network: nothing is looked up in DNS. Free-mail providers come from
``data/free_mail_domains.txt`` (ours, edited by hand); disposable domains from the
``disposable-email-domains`` package (a community blocklist, refreshed by upgrading the package).

Domains are compared in their IDNA (UTS #46) ASCII form, lower case, so "ACME.com" and its full-width
form, or "bücher.de" and "xn--bcher-kva.de", each have one spelling. A subdomain counts as its parent's kind
("us.yahoo.com" is free mail). There is no public-suffix list in here: the company domain is the host
with one leading "www." or "mail." dropped, which is right for the addresses leads type.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import idna
from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from django.conf import settings

FREE_MAIL_FILE = Path(__file__).parent / "data" / "free_mail_domains.txt"

_MAX_DOMAIN_LENGTH = 253
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
# The last label must be a real top-level domain name, which also keeps out IP addresses.
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}\.)+(?:[a-z]{{2,63}}|xn--[a-z0-9-]{{1,59}})")
_HOST_PREFIXES = ("www.", "mail.")


class DomainKind(StrEnum):
    COMPANY = "company"
    FREE_MAIL = "free_mail"
    DISPOSABLE = "disposable"
    INVALID = "invalid"


@dataclass(frozen=True)
class DomainInfo:
    """What an address's domain says about the lead.

    `domain` is the normalised host ("mail.acme.co.uk"; for invalid input, the trimmed, lower-cased
    text after the last "@"). `company_domain` and `website` are "" unless `kind` is company.
    """

    domain: str
    kind: DomainKind
    company_domain: str = ""
    website: str = ""


@cache
def free_mail_domains() -> frozenset[str]:
    """The free-mail providers in `FREE_MAIL_FILE` and in ``FREE_MAIL_EXTRA_DOMAINS``, read once per process."""
    lines = [*FREE_MAIL_FILE.read_text(encoding="utf-8").splitlines(), *settings.FREE_MAIL_EXTRA_DOMAINS]
    entries = (line.split("#", 1)[0].strip().lower() for line in lines)
    return frozenset(entry for entry in entries if entry)


def normalise_domain(domain: str) -> str | None:
    """The IDNA ASCII form of a domain, lower case, or None when it cannot be a mail domain."""
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError and codec errors both subclass it
        return None
    if len(ascii_domain) > _MAX_DOMAIN_LENGTH or not _DOMAIN_RE.fullmatch(ascii_domain):
        return None
    return ascii_domain


def _domain_part(email_or_domain: str) -> str:
    # NFKC first, so a full-width at sign (U+FF20) splits like "@"; a trailing dot is the DNS root, not a typo.
    text = unicodedata.normalize("NFKC", email_or_domain or "").strip()
    return text.rpartition("@")[2].strip().rstrip(".")


def _is_listed(domain: str, listed: Collection[str]) -> bool:
    """Whether the domain or one of its parents (of two labels or more) is in `listed`."""
    labels = domain.split(".")
    return any(".".join(labels[start:]) in listed for start in range(len(labels) - 1))


def _company_domain(domain: str) -> str:
    for prefix in _HOST_PREFIXES:
        rest = domain.removeprefix(prefix)
        # "mail.io" keeps its prefix: what would remain is only a top-level domain.
        if rest != domain and "." in rest:
            return rest
    return domain


def classify_email_domain(email_or_domain: str) -> DomainInfo:
    """Classify the domain of an address ("ann@acme.com") or a bare domain ("acme.com").

    Free mail is checked before disposable: our own list is curated, the blocklist is not, so a
    provider on both stays free mail.
    """
    raw = _domain_part(email_or_domain)
    domain = normalise_domain(raw) if raw else None
    if domain is None:
        return DomainInfo(domain=raw.lower(), kind=DomainKind.INVALID)
    if _is_listed(domain, free_mail_domains()):
        return DomainInfo(domain=domain, kind=DomainKind.FREE_MAIL)
    if _is_listed(domain, _DISPOSABLE_DOMAINS):
        return DomainInfo(domain=domain, kind=DomainKind.DISPOSABLE)
    company_domain = _company_domain(domain)
    return DomainInfo(
        domain=domain,
        kind=DomainKind.COMPANY,
        company_domain=company_domain,
        website=f"https://{company_domain}",
    )
