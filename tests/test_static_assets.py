"""What static/vendor ships: only libraries a page loads, and nothing a browser would ask for in vain."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

VENDOR = Path(settings.BASE_DIR) / "static" / "vendor"
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_vendored_files_ship_without_source_maps() -> None:
    # A sourceMappingURL without its .map makes every browser with devtools open request a missing file,
    # and breaks collectstatic's manifest, which resolves the URL.
    files = [path for path in VENDOR.rglob("*") if path.is_file()]

    assert [path.name for path in files if path.suffix == ".map"] == []
    assert [path.name for path in files if b"sourceMappingURL" in path.read_bytes()] == []


def test_every_vendored_library_is_loaded_by_a_page() -> None:
    templates = "\n".join(path.read_text() for path in TEMPLATES.rglob("*.html"))

    unused = [library.name for library in VENDOR.iterdir() if f"vendor/{library.name}/" not in templates]

    assert unused == []
