"""The static files storage gives WhiteNoise's hashed URLs, worked out once, and still refuses unknown names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from whitenoise.storage import CompressedManifestStaticFilesStorage

from core.staticfiles import CachedUrlStaticFilesStorage


@pytest.fixture
def static_root(tmp_path: Path) -> Path:
    manifest = {"version": "1.1", "hash": "0", "paths": {"css/app.css": "css/app.5d41402abc4b.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    return tmp_path


def test_a_url_is_the_hashed_one_whitenoise_gives(static_root: Path) -> None:
    storage = CachedUrlStaticFilesStorage(location=static_root, base_url="/static/")
    plain = CompressedManifestStaticFilesStorage(location=static_root, base_url="/static/")

    assert storage.url("css/app.css") == storage.url("css/app.css") == plain.url("css/app.css")
    assert storage.url("css/app.css") == "/static/css/app.5d41402abc4b.css"


def test_a_name_the_manifest_does_not_hold_is_refused_every_time(static_root: Path) -> None:
    storage = CachedUrlStaticFilesStorage(location=static_root, base_url="/static/")

    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            storage.url("css/missing.css")
