"""The import graph is the dependency graph: arrows point one way, and no app reaches another by name.

Walks every application module (tests and migrations aside) with ``ast``. ``ALLOWED`` is the table in
README.md's *Apps and imports*: an app may import itself, the platform (``core``) and the apps listed.
No app imports the project package (``leadsite``: settings, URL root, wsgi), which names every app and is not walked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("leads", "scoring", "handoff", "nurture", "reports", "integrations")
PLATFORM = "core"
PROJECT = "leadsite"

ALLOWED: dict[str, frozenset[str]] = {
    PLATFORM: frozenset(),
    "leads": frozenset({PLATFORM}),
    "scoring": frozenset({PLATFORM, "leads"}),
    "handoff": frozenset({PLATFORM, "leads", "scoring"}),
    "nurture": frozenset({PLATFORM, "leads", "scoring"}),
    "reports": frozenset({PLATFORM, "leads", "scoring", "handoff", "nurture"}),
    "integrations": frozenset({PLATFORM, "leads", "scoring", "handoff", "nurture", "reports"}),
    PROJECT: frozenset(),  # never walked; listed so that importing it is refused everywhere
}
# The project's wiring, not application code: settings name every app, the URL root includes each one's URLs.
BY_NAME = {"import_string", "get_model"}


def application_modules() -> Iterator[Path]:
    for top in (PLATFORM, *APPS):
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts):
                continue
            yield relative


def imported_tops(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module.split(".")[0]


def calls_by_name(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in BY_NAME:
                yield node.lineno, name


def violations(path: Path) -> list[str]:
    app = path.parts[0]
    tree = ast.parse((ROOT / path).read_text(), filename=str(path))
    found = [
        f"{path}:{line} imports {top}, which {app} may not"
        for line, top in imported_tops(tree)
        if top in ALLOWED and top != app and top not in ALLOWED[app]
    ]
    found += [f"{path}:{line} reaches code by name ({name}); import it instead" for line, name in calls_by_name(tree)]
    return found


def test_the_walk_sees_every_app() -> None:
    walked = {path.parts[0] for path in application_modules()}

    assert walked == {PLATFORM, *APPS}


@pytest.mark.parametrize("path", list(application_modules()), ids=str)
def test_a_module_imports_only_what_its_app_may(path: Path) -> None:
    assert violations(path) == []


def test_the_check_catches_an_import_against_the_rule() -> None:
    tree = ast.parse("from handoff.models import Team\nimport_string('handoff.tasks.run_pipeline')\n")

    assert [top for _, top in imported_tops(tree)] == ["handoff"]
    assert [name for _, name in calls_by_name(tree)] == ["import_string"]
