"""The merge policy: which source of a lead's values may fill or replace which. Pure: no ORM, no clock.

Anyone can send a public form or an API submission with any email address, so what a submission says is
not authority over what is known. Each value remembers where it came from (``Lead.field_sources``, and for
enrichment ``Lead.enrichment_sources``); ``merge`` compares that with where the incoming values come from:

    incoming source   fills an empty value   replaces a value set by
    person            yes                    nobody (a differing value becomes a proposed change)
    person_verified   yes                    person, person_verified
    provider          yes                    provider
    import            yes                    person, provider, import
    staff             yes                    anyone

``person`` is the visitor of a public form or whoever sent ``POST /api/submissions/`` (unauthenticated as
far as the person goes); ``person_verified`` is that person after proving the address (the double opt-in
link we emailed them); ``staff`` is a signed-in user (admin, or a rep or marketer accepting a proposed
change). A value with no recorded source was typed by the person before sources were kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Source(StrEnum):
    PERSON = "person"
    PERSON_VERIFIED = "person_verified"
    PROVIDER = "provider"
    IMPORT = "import"
    STAFF = "staff"


REPLACES: Mapping[Source, frozenset[Source]] = {
    Source.PERSON: frozenset(),
    Source.PERSON_VERIFIED: frozenset({Source.PERSON, Source.PERSON_VERIFIED}),
    Source.PROVIDER: frozenset({Source.PROVIDER}),
    Source.IMPORT: frozenset({Source.PERSON, Source.PROVIDER, Source.IMPORT}),
    Source.STAFF: frozenset(Source),
}

# A custom answer is merged like a field of its own, under this prefix and its key ("custom_answers.budget").
ANSWER_PREFIX = "custom_answers."


@dataclass(frozen=True)
class MergeResult:
    to_set: dict[str, Any] = field(default_factory=dict)
    to_propose: dict[str, Any] = field(default_factory=dict)


def is_blank(value: Any) -> bool:
    # False and 0 are answers (an unticked box, "0 employees"); only nothing is blank.
    return value is None or value == "" or value == [] or value == {}


def merge(
    *, current: Mapping[str, Any], sources: Mapping[str, Source], incoming: Mapping[str, Any], source: Source
) -> MergeResult:
    """What to set on the lead and what to leave as proposed changes, for ``incoming`` values from ``source``.

    Blank incoming values are ignored (a form that did not ask says nothing). A value equal to the current
    one changes nothing. A current value without a source counts as the person's.
    """
    result = MergeResult()
    for name, value in incoming.items():
        held = current.get(name)
        if is_blank(value) or value == held:
            continue
        if is_blank(held) or sources.get(name, Source.PERSON) in REPLACES[source]:
            result.to_set[name] = value
        else:
            result.to_propose[name] = value
    return result


def sources_of(*, field_sources: Mapping[str, Any], enrichment_sources: Mapping[str, Any]) -> dict[str, Source]:
    """Who set each value: the newer of the lead's own record and the enrichment providers' record.

    Enrichment keeps its own provenance (which provider, how sure); a field both name was set last by the
    one with the later ``at``.
    """
    entries: dict[str, tuple[datetime, Source]] = {}
    for name, entry in enrichment_sources.items():
        entries[name] = (_at(entry), Source.PROVIDER)
    for name, entry in field_sources.items():
        source = _source(entry)
        if source is not None and (name not in entries or _at(entry) >= entries[name][0]):
            entries[name] = (_at(entry), source)
    return {name: source for name, (_, source) in entries.items()}


def flatten(values: Mapping[str, Any], *, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Field values and custom answers as one mapping, each answer under ``ANSWER_PREFIX`` + its key."""
    return {**values, **{ANSWER_PREFIX + key: value for key, value in answers.items()}}


def answer_key(name: str) -> str | None:
    """The custom answer's key for a flattened name, or None for a lead field."""
    return name[len(ANSWER_PREFIX) :] if name.startswith(ANSWER_PREFIX) else None


_OLDEST = datetime.min.replace(tzinfo=UTC)


def _at(entry: Any) -> datetime:
    raw = entry.get("at") if isinstance(entry, Mapping) else None
    try:
        parsed = datetime.fromisoformat(raw) if isinstance(raw, str) else _OLDEST
    except ValueError:
        return _OLDEST
    # Entries are written aware (UTC); a naive one (typed by hand) is read as UTC too.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _source(entry: Any) -> Source | None:
    raw = entry.get("source") if isinstance(entry, Mapping) else None
    if not isinstance(raw, str):
        return None
    try:
        return Source(raw)
    except ValueError:
        return None
