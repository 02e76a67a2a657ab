from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django import Settings

from leads.models import Lead
from reports.selectors import ReportScope


def scope(**options: object) -> ReportScope:
    """Every lead (unless ``leads`` is given), with the report's default options unless given."""
    # The options are ReportScope's own keyword arguments, of several types: mypy cannot match a **dict of them.
    return ReportScope(**{"leads": Lead.objects.all(), **options})  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _media_root(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
