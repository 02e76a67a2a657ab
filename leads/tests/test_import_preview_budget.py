"""A large file's preview works within the task budget: it stores its progress, queues the rest, and ends with
the counts one run gives, whichever run reads which row (the repeated address here is read by a later run)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.test import override_settings

from leads import imports, tasks
from leads.models import ImportEvent, ImportStatus, LeadImport
from leads.tests.factories import FIXED_NOW
from leads.tests.test_imports import (  # noqa: F401 (fixtures)
    EXPECTED,
    MAPPING,
    counts,
    event,
    known_lead,
    make_batch,
    queued,
    skipped_people,
)

NO_TIME = timedelta(0)  # each run reads one chunk, then its time is up


def at_fixed_now() -> datetime:
    return FIXED_NOW


def preview_to_the_end(batch: LeadImport) -> tuple[LeadImport, int]:
    """What the worker does with the queued runs: one run after another until the preview is done."""
    runs = 0
    while batch.status == ImportStatus.PREVIEWING:
        batch = imports.run_preview(batch_id=batch.pk, clock=at_fixed_now, budget=NO_TIME)
        runs += 1
    return batch, runs


def outcome(batch: LeadImport) -> tuple[object, ...]:
    return batch.status, counts(batch), batch.row_errors, batch.total_rows


@pytest.fixture
def one_run(event: ImportEvent) -> LeadImport:  # noqa: F811
    """The same file previewed in one run."""
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    return imports.run_preview(batch_id=batch.pk, clock=at_fixed_now)


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_a_preview_whose_time_is_up_stores_its_progress_and_queues_the_rest(
    event: ImportEvent,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[object, int | None]],  # noqa: F811
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    queued.clear()

    batch = imports.run_preview(batch_id=batch.pk, clock=at_fixed_now, budget=NO_TIME)

    assert (batch.status, batch.previewed_rows, batch.processed_rows, counts(batch)["duplicate_count"]) == (
        ImportStatus.PREVIEWING,
        3,
        3,
        1,
    )
    assert sorted(batch.preview_seen) == ["email"]
    assert queued == [(imports.PREVIEW_TASK, batch.pk)]


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_a_preview_cut_into_runs_ends_with_the_counts_of_one_run(
    event: ImportEvent,  # noqa: F811
    one_run: LeadImport,
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[object, int | None]],  # noqa: F811
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 1)  # "ann@" and "ANN@" (rows 2 and 3) are read by two runs
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)

    batch, runs = preview_to_the_end(batch)

    assert (outcome(batch), runs) == (outcome(one_run), 8)
    assert (counts(batch), batch.previewed_rows, batch.preview_seen) == (EXPECTED, 0, {})


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_a_second_run_of_the_same_preview_task_stores_nothing_over_the_progress_of_the_first(
    event: ImportEvent,  # noqa: F811
    one_run: LeadImport,
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[object, int | None]],  # noqa: F811
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    as_the_second_run_read_it = LeadImport.objects.select_related("event").get(pk=batch.pk)
    for _ in range(2):
        batch = imports.run_preview(batch_id=batch.pk, clock=at_fixed_now, budget=NO_TIME)  # rows 1-4 stored
    stored = (batch.previewed_rows, batch.processed_rows, counts(batch), batch.preview_seen)
    queued.clear()

    late = imports.preview_import(batch=as_the_second_run_read_it, mapping=MAPPING, clock=at_fixed_now, budget=NO_TIME)
    after_the_late_run = (late.previewed_rows, late.processed_rows, counts(late), late.preview_seen)
    queued_by_the_late_run = list(queued)
    batch, _ = preview_to_the_end(late)

    assert (after_the_late_run, queued_by_the_late_run) == (stored, [])
    assert stored[0] == 4
    assert outcome(batch) == outcome(one_run)


@pytest.mark.usefixtures("known_lead", "skipped_people")
def test_a_preview_run_killed_midway_is_taken_up_by_the_sweep_from_its_last_stored_progress(
    event: ImportEvent,  # noqa: F811
    one_run: LeadImport,
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[object, int | None]],  # noqa: F811
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    imports.run_preview(batch_id=batch.pk, clock=at_fixed_now, budget=NO_TIME)  # stores rows 1-2
    with pytest.raises(TimeoutError):  # the task timeout kills the next run after its second chunk
        imports.run_preview(batch_id=batch.pk, clock=clock_stopping_after(calls=3), budget=timedelta(hours=1))
    queued.clear()

    imports.resume_stalled_imports(now=FIXED_NOW + timedelta(seconds=imports.STALE_AFTER_SECONDS + 1))
    swept = list(queued)
    batch, _ = preview_to_the_end(LeadImport.objects.get(pk=batch.pk))

    assert swept == [(imports.PREVIEW_TASK, batch.pk)]
    assert outcome(batch) == outcome(one_run)


def clock_stopping_after(*, calls: int) -> Callable[[], datetime]:
    """A clock that raises at its call after ``calls``: the worker killed mid-run."""
    left = [calls]

    def clock() -> datetime:
        left[0] -= 1
        if left[0] < 0:
            raise TimeoutError
        return FIXED_NOW

    return clock


@pytest.mark.usefixtures("known_lead", "skipped_people")
@override_settings(PIPELINE_TASK_BUDGET=NO_TIME)
def test_the_preview_task_works_within_the_pipeline_task_budget(
    event: ImportEvent,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[object, int | None]],  # noqa: F811
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    batch = imports.start_preview(batch=make_batch(event), mapping=MAPPING, now=FIXED_NOW)
    queued.clear()

    tasks.run_lead_import_preview(batch.pk)

    assert LeadImport.objects.get(pk=batch.pk).previewed_rows == 2
    assert queued == [(imports.PREVIEW_TASK, batch.pk)]


def test_a_preview_cut_into_runs_reads_no_row_twice_where_the_file_has_blank_lines(
    event: ImportEvent,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    queued: list[tuple[object, int | None]],  # noqa: F811
) -> None:
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    people = "".join(f"p{number}@acme.example,P {number},Acme,CTO,GB,\n" for number in range(7))
    content = "Email,Name,Company,Title,Country,Booth notes\n\n\n" + people
    batch = imports.start_preview(batch=make_batch(event, content), mapping=MAPPING, now=FIXED_NOW)

    batch, runs = preview_to_the_end(batch)

    assert runs == 3
    assert (counts(batch)["created_count"], counts(batch)["duplicate_count"], batch.total_rows) == (7, 0, 7)
