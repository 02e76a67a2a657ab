from __future__ import annotations

import pytest

from leads.models import Lead
from reports.selectors import ReportScope


def scope(**options: object) -> ReportScope:
    """Every lead (unless ``leads`` is given), with the report's default options unless given."""
    return ReportScope(**{"leads": Lead.objects.all(), **options})  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _media_root(settings: object, tmp_path: object) -> None:
    settings.MEDIA_ROOT = tmp_path  # type: ignore[attr-defined]
