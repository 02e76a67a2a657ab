"""Fixtures for the scoring tests: an active model and a fixed `now`."""

from __future__ import annotations

from datetime import datetime

import pytest

from leads.tests.factories import FIXED_NOW
from scoring.models import ScoringModel
from scoring.tests.factories import ScoringModelFactory


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def scoring_model(db: None) -> ScoringModel:
    """The active model: MQL at 60, nurture below 20, a 30-day half-life, three baseline fields, no rules yet."""
    return ScoringModelFactory(name="Active model")
