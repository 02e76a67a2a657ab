"""The merge policy as a pure function (leads.merge): no database, no clock."""

from __future__ import annotations

import pytest

from leads.merge import MergeResult, Source, answer_key, flatten, merge, sources_of

KNOWN = {"job_title": "CTO", "company_name": "Acme", "phone": ""}


def test_the_person_fills_an_empty_value() -> None:
    result = merge(current=KNOWN, sources={}, incoming={"phone": "+442071838750"}, source=Source.PERSON)

    assert result == MergeResult(to_set={"phone": "+442071838750"})


def test_the_person_proposes_a_value_that_differs_from_one_they_typed_before() -> None:
    sources = {"job_title": Source.PERSON}

    result = merge(current=KNOWN, sources=sources, incoming={"job_title": "Student"}, source=Source.PERSON)

    assert result == MergeResult(to_propose={"job_title": "Student"})


def test_a_value_with_no_recorded_source_counts_as_the_persons() -> None:
    result = merge(current=KNOWN, sources={}, incoming={"job_title": "Student"}, source=Source.PERSON)

    assert result.to_propose == {"job_title": "Student"}


@pytest.mark.parametrize("held_by", [Source.STAFF, Source.PROVIDER, Source.IMPORT, Source.PERSON_VERIFIED])
def test_the_person_never_replaces_a_value_another_source_set(held_by: Source) -> None:
    result = merge(
        current=KNOWN, sources={"job_title": held_by}, incoming={"job_title": "Student"}, source=Source.PERSON
    )

    assert result == MergeResult(to_propose={"job_title": "Student"})


@pytest.mark.parametrize("held_by", [Source.PERSON, Source.PERSON_VERIFIED])
def test_the_verified_person_replaces_what_the_person_typed(held_by: Source) -> None:
    result = merge(
        current=KNOWN, sources={"job_title": held_by}, incoming={"job_title": "CEO"}, source=Source.PERSON_VERIFIED
    )

    assert result == MergeResult(to_set={"job_title": "CEO"})


@pytest.mark.parametrize("held_by", [Source.STAFF, Source.PROVIDER, Source.IMPORT])
def test_the_verified_person_proposes_against_staff_providers_and_imports(held_by: Source) -> None:
    result = merge(
        current=KNOWN, sources={"job_title": held_by}, incoming={"job_title": "CEO"}, source=Source.PERSON_VERIFIED
    )

    assert result == MergeResult(to_propose={"job_title": "CEO"})


@pytest.mark.parametrize("held_by", list(Source))
def test_staff_replace_any_value(held_by: Source) -> None:
    result = merge(current=KNOWN, sources={"job_title": held_by}, incoming={"job_title": "CMO"}, source=Source.STAFF)

    assert result == MergeResult(to_set={"job_title": "CMO"})


def test_an_import_replaces_the_persons_unverified_value_but_not_staffs() -> None:
    sources = {"job_title": Source.PERSON, "company_name": Source.STAFF}

    result = merge(
        current=KNOWN, sources=sources, incoming={"job_title": "CMO", "company_name": "X"}, source=Source.IMPORT
    )

    assert result == MergeResult(to_set={"job_title": "CMO"}, to_propose={"company_name": "X"})


@pytest.mark.parametrize("blank", ["", None, []])
def test_a_blank_incoming_value_changes_nothing(blank: object) -> None:
    result = merge(current=KNOWN, sources={}, incoming={"job_title": blank}, source=Source.STAFF)

    assert result == MergeResult()


def test_an_equal_value_changes_nothing() -> None:
    result = merge(current=KNOWN, sources={}, incoming={"company_name": "Acme"}, source=Source.PERSON)

    assert result == MergeResult()


def test_false_and_zero_are_answers_not_blanks() -> None:
    current = flatten({}, answers={"newsletter": True, "seats": 5})

    result = merge(
        current=current,
        sources={},
        incoming=flatten({}, answers={"newsletter": False, "seats": 0}),
        source=Source.PERSON,
    )

    assert result.to_propose == {"custom_answers.newsletter": False, "custom_answers.seats": 0}


def test_a_new_answer_is_added_and_a_differing_one_proposed() -> None:
    current = flatten(KNOWN, answers={"team_size": "1-10"})

    result = merge(
        current=current,
        sources={},
        incoming=flatten({}, answers={"team_size": "51+", "budget": "10k"}),
        source=Source.PERSON,
    )

    assert result == MergeResult(
        to_set={"custom_answers.budget": "10k"}, to_propose={"custom_answers.team_size": "51+"}
    )


def test_answer_key_reads_a_flattened_answer_name() -> None:
    assert (answer_key("custom_answers.team_size"), answer_key("job_title")) == ("team_size", None)


def test_sources_of_reads_the_field_sources() -> None:
    field_sources = {"job_title": {"source": "staff", "at": "2026-03-02T10:00:00+00:00"}}

    assert sources_of(field_sources=field_sources, enrichment_sources={}) == {"job_title": Source.STAFF}


def test_sources_of_counts_enrichment_as_a_provider() -> None:
    enrichment = {"industry": {"provider": "Directory", "confidence": 0.9, "at": "2026-03-02T10:00:00+00:00"}}

    assert sources_of(field_sources={}, enrichment_sources=enrichment) == {"industry": Source.PROVIDER}


def test_sources_of_takes_whoever_set_the_value_last() -> None:
    field_sources = {
        "industry": {"source": "person", "at": "2026-03-01T10:00:00+00:00"},
        "website": {"source": "staff", "at": "2026-03-03T10:00:00+00:00"},
    }
    enrichment = {
        "industry": {"provider": "Directory", "at": "2026-03-02T10:00:00+00:00"},
        "website": {"provider": "Directory", "at": "2026-03-02T10:00:00+00:00"},
    }

    result = sources_of(field_sources=field_sources, enrichment_sources=enrichment)

    assert result == {"industry": Source.PROVIDER, "website": Source.STAFF}


def test_sources_of_ignores_an_unknown_source_and_a_malformed_time() -> None:
    field_sources = {"job_title": {"source": "hacker"}, "country": {"source": "staff", "at": "yesterday"}}

    assert sources_of(field_sources=field_sources, enrichment_sources={}) == {"country": Source.STAFF}
