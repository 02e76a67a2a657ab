"""An import's country column: ISO codes, common, official (both spellings), old and unaccented names."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads.import_countries import country_code
from leads.imports import check_row


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("gbr", "GB"),
        ("Germany", "DE"),
        ("  france ", "FR"),
        ("Russian Federation", "RU"),
        ("Russia", "RU"),
        ("Korea, Republic of", "KR"),
        ("Korea (the Republic of)", "KR"),
        ("South Korea", "KR"),
        ("Korea, Democratic People's Republic of", "KP"),
        ("Viet Nam", "VN"),
        ("Iran, Islamic Republic of", "IR"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Bolivia, Plurinational State of", "BO"),
        ("Macedonia", "MK"),
        ("North Macedonia", "MK"),
        ("Swaziland", "SZ"),
        ("Eswatini", "SZ"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Turkiye", "TR"),
        ("Taiwan, Province of China", "TW"),
        ("Tanzania, United Republic of", "TZ"),
        ("Venezuela, Bolivarian Republic of", "VE"),
        ("Moldova, Republic of", "MD"),
        ("Congo, The Democratic Republic of the", "CD"),
        ("Cote d\u2019Ivoire", "CI"),
        ("The Netherlands", "NL"),
        ("Holland", "NL"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Wales", "GB"),
        ("Northern Ireland", "GB"),
        ("USA", "US"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("", ""),
    ],
)
def test_a_country_is_read_from_its_code_or_any_of_its_names(typed: str, code: str) -> None:
    assert country_code(typed) == code


@pytest.mark.parametrize("typed", ["Narnia", "XX", "Korea", "Europe"])
def test_what_names_no_single_country_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError, match="is not a country"):
        country_code(typed)


def test_an_import_row_gets_the_code_of_the_country_it_names() -> None:
    checked = check_row(
        2, {"Email": "ann@new.example", "Country": "Viet Nam"}, {"Email": "email", "Country": "country"}
    )

    assert (checked.error, checked.details and checked.details.country) == ("", "VN")
