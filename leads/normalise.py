"""Pure normalisation of contact details: no ORM, no clock."""

import unicodedata

import phonenumbers


def normalise_email(raw: str | None) -> str | None:
    """Return the address trimmed, NFKC-folded and lower-cased, or None when empty.

    The whole address is lower-cased: mail systems treat the local part case-insensitively in
    practice, and "Ann@Acme.com" and "ann@acme.com" must be one lead. Plus-tags and dots are kept,
    because on company domains they can name different mailboxes.
    """
    if raw is None:
        return None
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    return email or None


def normalise_phone(raw: str | None, *, country: str = "") -> str:
    """Return an E.164 number ("+442071838750") when the input parses as a valid one, else the trimmed input."""
    if not raw or not raw.strip():
        return ""
    return e164_phone(raw, country=country) or raw.strip()


def e164_phone(raw: str, *, country: str = "") -> str | None:
    """Return the E.164 number ("+442071838750") when the input parses as a valid one, else None.

    ``country`` (ISO alpha-2) reads a number not written in international form; one starting with ``+`` needs none.
    """
    try:
        number = phonenumbers.parse(raw.strip(), (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_domain(email: str | None) -> str:
    """The domain part of a normalised address, or "" when there is none."""
    if not email or "@" not in email:
        return ""
    return email.rsplit("@", 1)[1]
