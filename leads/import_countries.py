"""A list's country column read as an ISO 3166-1 alpha-2 code (``leads.imports``).

People type countries every way: the code (``DE``, ``DEU``), the common name (``South Korea``), the official
ISO name in either of its spellings (django-countries' ``Korea (the Republic of)``, or ISO's own list form
``Korea, Republic of``), a former name (``Swaziland``, ``Turkey``), or without accents (``Turkiye``). All of
these come from django-countries (its names, the official names its common names shadow, its old names and
its alpha-3 codes), so a name it learns in an upgrade is read here too. Only names that are not ISO 3166
country names at all (the nations of the United Kingdom, ``Holland``, ``USA``) are listed by hand.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from django.core.exceptions import ValidationError
from django_countries import countries

# Names ISO 3166 does not give, that lists still use: parts of a country, informal and retired names.
OTHER_NAMES = {
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "united states": "US",
    "holland": "NL", "ivory coast": "CI", "cape verde": "CV", "burma": "MM", "east timor": "TL", "vatican": "VA",
}  # fmt: skip
_QUALIFIED = re.compile(r"^(?P<name>.+?) \((?P<qualifier>.+)\)$")  # "Korea (the Republic of)"


def country_code(raw: str) -> str:
    """The alpha-2 code of the country ``raw`` names or codes, "" for a blank; ``ValidationError`` if none."""
    text = raw.strip()
    if not text:
        return ""
    if text.upper() in countries.countries:
        return text.upper()
    code = _codes_by_name().get(_folded(text))
    if code is None:
        raise ValidationError(f"“{raw}” is not a country: give its name or its ISO code (e.g. DE or DEU).")
    return code


@cache
def _codes_by_name() -> dict[str, str]:
    """Every spelling django-countries knows, folded (see ``_folded``), and the hand-listed names."""
    names: dict[str, str] = {_folded(name): code for name, code in OTHER_NAMES.items()}
    for code, (alpha3, *_) in countries.alt_codes.items():
        if alpha3 and code in countries.countries:
            names[alpha3.lower()] = code
    spelled = [(code, str(name)) for code, name in countries]
    spelled += [(code, str(name)) for code, shadowed in countries.shadowed_names.items() for name in shadowed]
    for code, name in spelled:
        for variant in _variants(name):
            names[_folded(variant)] = code
    return names


def _variants(name: str) -> list[str]:
    """``name``, and for "Korea (the Republic of)" the ISO list form "Korea, Republic of" (and with "the")."""
    qualified = _QUALIFIED.match(name) or re.match(r"^(?P<name>[^,]+), (?P<qualifier>.+)$", name)
    if qualified is None:
        return [name]
    base, qualifier = qualified["name"], qualified["qualifier"]
    bare = re.sub(r"^the ", "", qualifier, flags=re.IGNORECASE)
    return [name, f"{base}, {qualifier}", f"{base}, {bare}", f"{base} ({bare})"]


def _folded(text: str) -> str:
    """Lower case, without accents, one kind of apostrophe and space, and no leading "the"."""
    plain = unicodedata.normalize("NFKD", text.replace("\u2019", "'")).encode("ascii", "ignore").decode()
    plain = " ".join(plain.lower().split())
    return plain.removeprefix("the ")
