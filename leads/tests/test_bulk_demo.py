"""The synthetic bulk leads (``load_demo --leads N``): set-based, yet complete enough for reports and benches."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection
from django.db.models import Count, F

from leads import bulk_demo, demo
from leads.models import Lead, Stage, StageChange, Touch
from leads.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db


def test_each_bulk_lead_has_its_first_touch() -> None:
    demo.bulk_create_leads(total=200, reps=[], now=FIXED_NOW, batch_size=64)

    leads = Lead.objects.filter(email__startswith=demo.BULK_PREFIX)
    assert leads.filter(first_touch__lead=F("pk"), first_touch__channel=F("first_touch_channel")).count() == 200
    assert Touch.objects.count() == 200


def test_each_bulk_lead_has_the_stage_changes_that_led_to_its_stage() -> None:
    demo.bulk_create_leads(total=300, reps=[], now=FIXED_NOW)

    for lead in Lead.objects.annotate(changes=Count("stage_changes")):
        path = bulk_demo.STAGE_PATHS[lead.stage]
        last = lead.stage_changes.order_by("changed_at").last()
        assert lead.changes == len(path)
        assert last is None or last.to_stage == lead.stage
    assert not StageChange.objects.filter(from_stage=F("to_stage")).exists()


def test_owned_bulk_leads_belong_to_the_reps_given(rep: object) -> None:
    demo.bulk_create_leads(total=100, reps=[rep], now=FIXED_NOW)  # type: ignore[list-item]

    owned = Lead.objects.filter(stage__in=[Stage.MQL, Stage.SQL, Stage.REJECTED])
    assert owned.exists()
    assert set(owned.values_list("owner", flat=True)) == {rep.pk}  # type: ignore[attr-defined]


def test_new_leads_get_ids_after_the_bulk_ones() -> None:
    demo.bulk_create_leads(total=50, reps=[], now=FIXED_NOW)

    lead = Lead.objects.create(email="after@acme.example", created_at=FIXED_NOW, stage_changed_at=FIXED_NOW)

    assert lead.pk > Lead.objects.exclude(pk=lead.pk).order_by("-pk").values_list("pk", flat=True)[0]


@pytest.mark.django_db(transaction=True)
def test_a_large_load_builds_the_declared_indexes_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_demo, "DROP_INDEXES_FROM", 1)

    demo.bulk_create_leads(total=20, reps=[], now=FIXED_NOW)

    with connection.cursor() as cursor:
        names = {
            name
            for table in (Lead._meta.db_table, Touch._meta.db_table, StageChange._meta.db_table)
            for name in connection.introspection.get_constraints(cursor, table)
        }
    declared = {index.name for model in (Lead, Touch, StageChange) for index in model._meta.indexes}
    assert declared <= names


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for table in (Lead._meta.db_table, Touch._meta.db_table, StageChange._meta.db_table)
            for name, constraint in connection.introspection.get_constraints(cursor, table).items()
            if constraint["index"]
        }


@pytest.mark.django_db(transaction=True)
def test_a_large_load_builds_every_index_it_dropped_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_demo, "DROP_INDEXES_FROM", 1)
    before = _index_names()

    demo.bulk_create_leads(total=20, reps=[], now=FIXED_NOW)

    assert _index_names() == before


@pytest.mark.django_db(transaction=True)
def test_a_large_load_leaves_the_connection_checking_foreign_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_demo, "DROP_INDEXES_FROM", 1)

    demo.bulk_create_leads(total=20, reps=[], now=FIXED_NOW)

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL, as settings.py asks


@pytest.mark.django_db(transaction=True)
def test_a_large_load_with_a_broken_reference_is_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_demo, "DROP_INDEXES_FROM", 1)
    # Owners that do not exist: unchecked row by row, the check before the commit must refuse them.
    missing_rep = SimpleNamespace(pk=987_654)

    with pytest.raises(IntegrityError):
        demo.bulk_create_leads(total=60, reps=[missing_rep], now=FIXED_NOW)  # type: ignore[list-item]

    assert not Lead.objects.filter(email__startswith=demo.BULK_PREFIX).exists()
