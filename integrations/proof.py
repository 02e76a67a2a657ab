"""The consent proof bundle: for one lead, what each consent rests on, in one document to hand over.

Per consent: the legal basis and status, the form (name, address) and the version of its consent text, the
exact words the person saw, when it was given, where from (a keyed hash of the IP address, never the
address), the double opt-in (whether the form asks for one, when the email went out, when and from where the
link was followed) and any withdrawal. As JSON (``consent_proof``) and as a printable HTML page
(``render_consent_proof_html``); admin (Leads > Leads > *Download consent proof*) and
``GET /api/leads/{id}/consent-proof/`` serve both.

The IP hash is HMAC-SHA256 keyed with the site's ``SECRET_KEY`` (``salted_hmac``): with a plain hash, anyone
holding the bundle could find an IPv4 address by trying all four billion. Whoever runs the site can still
check a claimed address (``ip_matches``) while the key is the same. Each bundle carries the SHA-256 of its
own content (``digest``), so a copy that was changed afterwards can be told from the original.

An erased lead's bundle still proves the consents (erasure keeps each consent's basis, text and times) but
names nobody: the lead's email and name are blank, and so are the IP hashes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare, salted_hmac

from leads.models import Consent, Lead

BUNDLE_VERSION = 1
_IP_SALT = "integrations.proof.ip_address"


def hash_ip(ip_address: str | None) -> str:
    """The keyed hash of an IP address as the bundle shows it ("" when none was recorded)."""
    if not ip_address:
        return ""
    return "hmac-sha256:" + salted_hmac(_IP_SALT, ip_address, algorithm="sha256").hexdigest()


def ip_matches(ip_address: str, hashed: str) -> bool:
    """Whether ``hashed`` (from a bundle) is the hash of ``ip_address``, with this site's key."""
    return bool(hashed) and constant_time_compare(hash_ip(ip_address), hashed)


def consent_proof(*, lead: Lead, now: datetime) -> dict[str, Any]:
    """The lead's consent proof as JSON-ready data, newest consent first, with the digest of its content."""
    consents = (
        Consent.objects.filter(lead=lead)
        .select_related("consent_text__form", "submission__form")
        .order_by("-given_at", "-id")
    )
    content = {
        "bundle_version": BUNDLE_VERSION,
        "generated_at": now,
        "lead": {"id": lead.pk, "email": lead.email or "", "name": lead.full_name, "erased_at": lead.erased_at},
        "consents": [_consent_item(consent) for consent in consents],
    }
    content = json.loads(json.dumps(content, cls=DjangoJSONEncoder))
    return {**content, "digest": _digest(content)}


def is_intact(bundle: dict[str, Any]) -> bool:
    """Whether the bundle's content is what its digest says (nothing changed since it was made)."""
    content = {key: value for key, value in bundle.items() if key != "digest"}
    return constant_time_compare(_digest(content), str(bundle.get("digest", "")))


def render_consent_proof_html(bundle: dict[str, Any]) -> str:
    """The bundle as a standalone, printable HTML page (no scripts, no outside assets)."""
    return render_to_string("integrations/consent_proof.html", {"bundle": bundle})


def _digest(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _consent_item(consent: Consent) -> dict[str, Any]:
    consent_text = consent.consent_text
    submission = getattr(consent, "submission", None)
    form = consent_text.form if consent_text is not None else (submission.form if submission is not None else None)
    return {
        "id": consent.pk,
        "legal_basis": consent.legal_basis,
        "legal_basis_label": consent.get_legal_basis_display(),
        "status": consent.status,
        "source": consent.source,
        "source_ref": consent.source_ref,
        "form": None if form is None else {"id": form.pk, "name": form.name, "slug": form.slug},
        "consent_text_version": consent_text.version if consent_text is not None else consent.text_version,
        "consent_text_published_at": consent_text.created_at if consent_text is not None else None,
        "text": consent.text,
        "given_at": consent.given_at,
        "ip_hash": hash_ip(consent.ip_address),
        "double_opt_in": {
            "required": bool(form is not None and form.is_double_opt_in),
            "email_sent_at": submission.confirmation_sent_at if submission is not None else None,
            "confirmed_at": consent.confirmed_at,
            "confirmed_ip_hash": hash_ip(consent.confirmed_ip_address),
        },
        "withdrawn_at": consent.withdrawn_at,
    }
