"""A capture writes its rows without ``save()`` (``core.inserts``); every listener of their signals still hears them."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import models
from django.db.models.signals import post_save

from leads.models import Activity, CaptureForm, Consent, Lead, Submission, Touch
from leads.tests.test_submissions import submit

pytestmark = pytest.mark.django_db

CAPTURED_MODELS: tuple[type[models.Model], ...] = (Lead, Submission, Consent, Touch, Activity)


@pytest.fixture
def saved() -> Iterator[list[tuple[type[models.Model], int, bool]]]:
    """Each ``post_save`` a capture's models send: (model, primary key, created)."""
    heard: list[tuple[type[models.Model], int, bool]] = []

    def listen(sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any) -> None:
        heard.append((sender, instance.pk, created))

    for model in CAPTURED_MODELS:
        post_save.connect(listen, sender=model, dispatch_uid=f"test_capture_fast.{model.__name__}")
    yield heard
    for model in CAPTURED_MODELS:
        post_save.disconnect(sender=model, dispatch_uid=f"test_capture_fast.{model.__name__}")


def test_a_capture_sends_post_save_once_for_each_row_it_creates(
    whitepaper: CaptureForm, saved: list[tuple[type[models.Model], int, bool]]
) -> None:
    submission = submit(whitepaper).submission

    assert sorted(saved, key=lambda heard: heard[0].__name__) == [
        (Activity, Activity.objects.get().pk, True),
        (Consent, Consent.objects.get().pk, True),
        (Lead, Lead.objects.get().pk, True),
        (Submission, submission.pk, True),
        (Touch, Touch.objects.get().pk, True),
    ]
