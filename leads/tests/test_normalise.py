import pytest

from leads.normalise import email_domain, normalise_email, normalise_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ann@acme.com", "ann@acme.com"),
        ("  Ann.Smith@ACME.com ", "ann.smith@acme.com"),
        ("ANN+webinar@Acme.COM", "ann+webinar@acme.com"),
        ("\uff41nn@acme.com", "ann@acme.com"),  # full-width "a" folds under NFKC
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_email_trims_folds_and_lowercases(raw: str | None, expected: str | None) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("020 7183 8750", "GB", "+442071838750"),
        ("+44 20 7183 8750", "", "+442071838750"),
        ("(415) 555-2671", "us", "+14155552671"),
        ("not a number", "GB", "not a number"),
        ("  ", "GB", ""),
        ("12", "", "12"),
    ],
)
def test_normalise_phone_gives_e164_when_valid(raw: str, country: str, expected: str) -> None:
    assert normalise_phone(raw, country=country) == expected


def test_email_domain_is_the_part_after_the_last_at() -> None:
    assert email_domain("ann@sales.acme.com") == "sales.acme.com"
    assert email_domain("") == ""
